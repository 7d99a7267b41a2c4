"""Text sources, exact token counts, the fixed held-out split, and the deterministic batch stream."""

import numpy as np
import pytest

from lrkd.errors import InputError
from lrkd.simulate.lrc import data
from lrkd.simulate.lrc.tiny import make_tokenizer, tiny_text


@pytest.fixture(scope="module")
def tokenizer():
    return make_tokenizer()


def test_kjv_is_one_document_per_chapter_without_verse_numbers():
    docs = data.kjv_documents()
    assert len(docs) == 1189  # chapters of the 66 books
    assert docs[0].startswith("In the beginning God created")
    assert not any(ch.isdigit() for ch in docs[0][:40])
    assert 4.0e6 < sum(map(len, docs)) < 4.4e6


def test_text_file_and_folder_sources(tmp_path):
    (tmp_path / "a.txt").write_text("first document")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.md").write_text("second document")
    (tmp_path / "skip.bin").write_bytes(b"\0\1")
    assert data.text_documents(tmp_path / "a.txt") == ["first document"]
    assert data.text_documents(tmp_path) == ["first document", "second document"]


def test_missing_or_empty_text_is_a_clear_error(tmp_path):
    with pytest.raises(InputError, match="text: must be 'kjv' or an existing text file or folder"):
        data.load_documents(str(tmp_path / "missing.txt"))
    (tmp_path / "empty.txt").write_text("  \n")
    with pytest.raises(InputError, match="text: .* is empty"):
        data.load_documents(str(tmp_path / "empty.txt"))
    (tmp_path / "folder").mkdir()
    with pytest.raises(InputError, match="text: folder .* holds no"):
        data.load_documents(str(tmp_path / "folder"))


def test_packing_counts_tokens_exactly_and_holds_out_every_kth(tmp_path, tokenizer):
    path = tmp_path / "t.txt"
    path.write_text(tiny_text())
    ids = data.token_stream(tokenizer, str(path))
    corpus = data.pack(ids, 16, 5, str(path))
    n_seq = len(ids) // 16
    assert corpus.n_train_tokens + corpus.n_heldout_tokens == n_seq * 16
    assert len(corpus.heldout) == n_seq // 5
    sequences = ids[: n_seq * 16].reshape(n_seq, 16)
    np.testing.assert_array_equal(corpus.heldout, sequences[4::5])
    assert ids[-1] == data.separator_id(tokenizer)


def test_token_stream_is_cached(tmp_path, tokenizer):
    path = tmp_path / "t.txt"
    path.write_text(tiny_text(5))
    first = data.token_stream(tokenizer, str(path), cache_dir=tmp_path / "cache")
    assert len(list((tmp_path / "cache" / "corpora").glob("*.npy"))) == 1
    np.testing.assert_array_equal(data.token_stream(tokenizer, str(path), cache_dir=tmp_path / "cache"), first)


def test_too_little_text_for_the_splits_is_a_clear_error(tmp_path, tokenizer):
    path = tmp_path / "short.txt"
    path.write_text("just a few words")
    with pytest.raises(InputError, match="text: too short"):
        data.build_corpus(tokenizer, str(path), 16, min_heldout=2)


def test_batch_stream_is_a_function_of_seed_and_step():
    sequences = np.arange(10 * 4).reshape(10, 4)
    stream = data.BatchStream(sequences, 3, seed=1)
    first_epoch = np.concatenate([stream.indices(s) for s in range(3)] + [stream.indices(3)[:1]])
    assert sorted(first_epoch.tolist()) == list(range(10))  # each sequence once per epoch
    again = data.BatchStream(sequences, 3, seed=1)
    np.testing.assert_array_equal(again.batch(7), stream.batch(7))
    assert not np.array_equal(data.BatchStream(sequences, 3, seed=2).indices(0), stream.indices(0))


def test_subsample_keeps_whole_sequences_and_rejects_bad_sizes():
    sequences = np.arange(20 * 8).reshape(20, 8)
    picked = data.subsample(sequences, 40, seed=0)
    assert picked.shape == (5, 8)
    assert data.subsample(sequences, None, seed=0) is sequences
    with pytest.raises(InputError, match="train_tokens"):
        data.subsample(sequences, 8 * 21, seed=0)
