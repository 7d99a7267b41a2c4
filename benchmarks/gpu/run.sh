#!/usr/bin/env bash
# Everything lrkd measures on a GPU, in one offline run of under 10 minutes, results as JSON in OUT.
#
#   here (lrkd set up, PyPI reachable):   python benchmarks/gpu/prepare_bundle.py     # writes .gpu/
#   on the GPU machine (python3 with a CUDA torch, no network, no lrkd install):
#                                         bash benchmarks/gpu/run.sh OUT_DIR
#
# Steps, each under its own time limit (seconds, overridable: LIMIT_REPORT=300 bash ... and so on);
# a step that fails or runs out of time is recorded in OUT/summary.json and the next one runs:
#   report      `lrkd report --quick --no-real --device cuda`: every synthetic experiment on the GPU
#               (the real run needs the 98 MB GGUF teacher, which the bundle leaves out; the LRC
#               benchmarks below time that path instead)
#   dask        `lrkd sweep configs/c2_generalization.toml --executor dask --workers 2 --set device="$DEVICE"`
#   batched     benchmarks/bench_batched_sgd.py --device "$DEVICE": the batched-students speed-up
#   lrc_b8_s64, lrc_b32_s512
#               benchmarks/bench_lrc.py on SmolLM2-135M's architecture with RANDOM weights
#               (throughput does not depend on weight values): tokens/s, LRC/KD, shared teacher,
#               model FLOP utilization against PEAK_TFLOPS (default 989: H100/H200 SXM dense bf16)
#   rank_sweep  benchmarks/bench_rank_sweep.py, when that script exists (skipped with a note if not)
#   real_standard
#               the standard real preset (lrc_real "standard": 6 budgets x 7 widths x 5 seeds of the
#               rank sweep, C1 and C3; about 30 CPU-minutes on one core) on "$DEVICE", with the
#               reduced teacher of the bundle, .gpu/teacher.gguf (SmolLM2-135M-Instruct's first 2
#               layers, written by prepare_bundle.py; the preset cuts the vocabulary to the KJV's);
#               skipped with a note when the bundle has none. Its verdicts (C1-C4 on
#               the real run, with their stability) go to real_standard.json, which
#               scripts/findings_table.py --real standard reads like a report's verdicts.json.
# OUT receives at most 9 files: summary.json (every step: command, exit code, seconds, results),
# the report's verdicts.json, the bench_*.json files, real_standard.json and run.log (all output).
set -uo pipefail
OUT=${1:?usage: bash benchmarks/gpu/run.sh OUT_DIR}
mkdir -p "$OUT"; OUT=$(cd "$OUT" && pwd)
cd "$(dirname "$0")/../.."
ROOT=$PWD
[ -d .gpu/wheels ] || { echo "run.sh: .gpu/ is missing; run python benchmarks/gpu/prepare_bundle.py first" >&2; exit 2; }
exec > >(tee "$OUT/run.log") 2>&1

PY=${PYTHON:-python3}
SITE=/tmp/lrkd-site WORK=/tmp/lrkd-gpu
PEAK_TFLOPS=${PEAK_TFLOPS:-989}
DEVICE=${DEVICE:-cuda}  # DEVICE=cpu: a smoke test of this script's plumbing on a machine without a GPU
rm -rf "$WORK"; mkdir -p "$SITE" "$WORK"
# the bundle's transformers 4.x (lrkd needs < 5) and dask.distributed shadow the machine's own
"$PY" -m pip install -q --no-index --no-deps --no-compile --target "$SITE" .gpu/wheels/*.whl
# lrkd without installing it: one package `lrkd` whose theory, simulate, validate and reports are the
# repository's top-level folders (what pyproject's package-dir mapping installs), linked into $SITE
rm -rf "$SITE/lrkd"; mkdir -p "$SITE/lrkd"
cp -r lrkd/. "$SITE/lrkd/"
for part in theory simulate validate reports; do ln -s "$ROOT/$part" "$SITE/lrkd/$part"; done
export PYTHONPATH="$SITE" HF_HUB_OFFLINE=1 LRKD_CACHE="$WORK/cache" PYTHONUNBUFFERED=1 LRKD_QUIET=1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
[ "$DEVICE" = cpu ] || "$PY" -c 'import torch; assert torch.cuda.is_available(), "no CUDA GPU visible to torch"
print("torch", torch.__version__, torch.cuda.get_device_name())' || exit 1

STEPS=()  # name|rc|seconds|json file or -
step() {  # step NAME LIMIT_S JSON_OR_- COMMAND...
  local name=$1 limit=$2 json=$3; shift 3
  echo; echo "== $name (limit ${limit}s): $*"
  local start=$SECONDS
  timeout --kill-after=10 "$limit" "$@"
  local rc=$?
  STEPS+=("$name|$rc|$((SECONDS - start))|$json")
  echo "== $name: exit $rc after $((SECONDS - start)) s"
}

"$PY" - <<'PY'
import json, torch
from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM
config = LlamaConfig(**{k: v for k, v in json.load(open(".gpu/config.json")).items() if not k.startswith("_")})
torch.manual_seed(0)
LlamaForCausalLM(config).save_pretrained("/tmp/lrkd-gpu/smollm2-arch-random")
AutoTokenizer.from_pretrained(".gpu/tokenizer").save_pretrained("/tmp/lrkd-gpu/smollm2-arch-random")
print("teacher: SmolLM2-135M architecture, random weights")
PY

step report "${LIMIT_REPORT:-180}" verdicts.json \
  "$PY" -m lrkd report --quick --no-real --device "$DEVICE" --workers 4 --out "$WORK/report"
cp "$WORK/report/verdicts.json" "$OUT/verdicts.json" 2>/dev/null

step dask "${LIMIT_DASK:-60}" - \
  "$PY" -m lrkd sweep configs/c2_generalization.toml --executor dask --workers 2 --set device="$DEVICE" \
  --store "$WORK/dask.db"

step batched "${LIMIT_BATCHED:-60}" - \
  "$PY" benchmarks/bench_batched_sgd.py --device "$DEVICE" --repeats 1 --skip-padded-alone

lrc=(--set teacher="$WORK/smollm2-arch-random" --set text="$ROOT/.gpu/kjv.txt" --set device="$DEVICE"
     --peak-tflops "$PEAK_TFLOPS")
step lrc_b8_s64 "${LIMIT_LRC:-60}" bench_lrc_b8_s64.json \
  "$PY" benchmarks/bench_lrc.py "${lrc[@]}" --json "$OUT/bench_lrc_b8_s64.json"
step lrc_b32_s512 "${LIMIT_LRC:-60}" bench_lrc_b32_s512.json \
  "$PY" benchmarks/bench_lrc.py "${lrc[@]}" --set batch_size=32 --set seq_len=512 --json "$OUT/bench_lrc_b32_s512.json"

if [ -f benchmarks/bench_rank_sweep.py ]; then
  # pass only the options that script has: it is written beside this one and may change
  help=$("$PY" benchmarks/bench_rank_sweep.py --help 2>&1 || true)
  rank_args=()
  [[ $help == *--set* ]] && rank_args+=("${lrc[@]:0:6}")
  [[ $help == *--device* ]] && rank_args+=(--device "$DEVICE")
  [[ $help == *--peak-tflops* ]] && rank_args+=(--peak-tflops "$PEAK_TFLOPS")
  [[ $help == *--json* ]] && rank_args+=(--json "$OUT/bench_rank_sweep.json")
  step rank_sweep "${LIMIT_RANK_SWEEP:-90}" bench_rank_sweep.json \
    "$PY" benchmarks/bench_rank_sweep.py "${rank_args[@]}"
else
  echo; echo "== rank_sweep: skipped, benchmarks/bench_rank_sweep.py does not exist in this checkout"
  STEPS+=("rank_sweep|skipped|0|-")
fi

TEACHER="$ROOT/.gpu/teacher.gguf"
if [ -f "$TEACHER" ]; then
  cat > "$WORK/real_standard.py" <<'PY'
"""The standard real preset on the bundle's teacher: run (resumable store), decide, write the verdicts."""
import json, sys
from lrkd.config import to_dict
from lrkd.reports.plan import all_verdicts
from lrkd.simulate.experiments import get_experiment
from lrkd.store import ResultStore
teacher, text, device, store, out = sys.argv[1:6]
experiment = get_experiment("lrc_real")
lrc = {**to_dict(experiment.config("standard").lrc), "teacher": teacher, "text": text}
runs = experiment.run(experiment.config("standard", lrc=lrc, device=device), store=ResultStore(store), progress=False)
verdicts = all_verdicts([runs])
with open(out, "w") as f:
    json.dump([v.to_json() for v in verdicts], f, indent=2, default=str)
for v in verdicts:
    print(f"{v.claim:<20} {v.code:<14} stability {v.numbers.get('stability')}")
PY
  step real_standard "${LIMIT_REAL_STANDARD:-420}" real_standard.json \
    "$PY" "$WORK/real_standard.py" "$TEACHER" "$ROOT/.gpu/kjv.txt" "$DEVICE" "$WORK/real_standard.db" \
    "$OUT/real_standard.json"
else
  echo; echo "== real_standard: skipped, the bundle has no teacher ($TEACHER: run python benchmarks/gpu/prepare_bundle.py)"
  STEPS+=("real_standard|skipped|0|-")
fi

# summary.json: every step's exit code and seconds, with its JSON results inlined
printf '%s\n' "${STEPS[@]}" | "$PY" - "$OUT" <<'PY'
import json, subprocess, sys
from pathlib import Path
out = Path(sys.argv[1])
try:
    gpu = subprocess.run(["nvidia-smi", "--query-gpu=name,memory.total,driver_version", "--format=csv,noheader"],
                         capture_output=True, text=True).stdout.strip()
except OSError:
    gpu = "none (no nvidia-smi)"
steps = {}
for line in sys.stdin.read().split("\n"):
    if not line:
        continue
    name, rc, seconds, json_file = line.split("|")
    entry = {"exit_code": int(rc) if rc.lstrip("-").isdigit() else rc, "seconds": int(seconds)}
    if entry["exit_code"] in (124, 137):
        entry["note"] = "ran out of its time limit"
    path = out / json_file
    if json_file != "-" and path.is_file():
        entry["results"] = json.loads(path.read_text())
    steps[name] = entry
import torch
summary = {"gpu": gpu, "torch": torch.__version__, "steps": steps}
(out / "summary.json").write_text(json.dumps(summary, indent=2))
print(json.dumps({k: {"exit_code": v["exit_code"], "seconds": v["seconds"]} for k, v in steps.items()}))
PY
