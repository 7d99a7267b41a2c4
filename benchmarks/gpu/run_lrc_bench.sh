#!/usr/bin/env bash
# Time real LRC distillation on a GPU machine that has PyTorch but no network and no lrkd install.
# Run `python benchmarks/gpu/prepare_bundle.py` first (on a machine with lrkd set up): it writes
# .gpu/ with SmolLM2's tokenizer and config, the KJV text, and wheels of transformers 4.57 and
# its hub/tokenizer libraries. The teacher here has SmolLM2-135M's architecture with RANDOM
# weights (the 98 MB GGUF does not fit the transfer): throughput does not depend on weight values.
#   usage: bash benchmarks/gpu/run_lrc_bench.sh OUT_DIR [extra bench_lrc.py args]
set -euo pipefail
OUT=${1:?output folder}; shift || true
cd "$(dirname "$0")/../.."
SITE=/tmp/lrkd-site; mkdir -p "$SITE" "$OUT"
python3 -m pip install -q --no-deps --target "$SITE" .gpu/wheels/*.whl
export PYTHONPATH="$SITE:$PWD" HF_HUB_OFFLINE=1 LRKD_CACHE=/tmp/lrkd-cache
python3 - <<'PY'
import json, torch
from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM
config = LlamaConfig(**{k: v for k, v in json.load(open(".gpu/config.json")).items() if not k.startswith("_")})
torch.manual_seed(0)
LlamaForCausalLM(config).save_pretrained("/tmp/smollm2-arch-random")
AutoTokenizer.from_pretrained(".gpu/tokenizer").save_pretrained("/tmp/smollm2-arch-random")
print("teacher: SmolLM2-135M architecture, random weights, saved to /tmp/smollm2-arch-random")
PY
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader || true
common=(--set teacher=/tmp/smollm2-arch-random --set text="$PWD/.gpu/kjv.txt" --set device=cuda "$@")
python3 benchmarks/bench_lrc.py "${common[@]}" --json "$OUT/bench_lrc_quick.json"
python3 benchmarks/bench_lrc.py "${common[@]}" --set batch_size=32 --set seq_len=512 --json "$OUT/bench_lrc_b32_s512.json"
