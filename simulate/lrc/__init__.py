"""Real Low-Rank Clone (LRC) distillation of a pretrained Llama-family teacher on real text.

Method: Hao et al. 2025, "A Token is Worth over 1,000 Tokens: Efficient Knowledge Distillation
through Low-Rank Clone" (arXiv 2505.12781), read from the paper and the official code
(github.com/CURRENTF/LowRankClone); this is our own implementation. Variant implemented (see
student.py and losses.py): one projection per layer and kind (the official `use_all_attn`), q and
k cloned before RoPE, the attention-output term in teacher width before projecting (default,
official) or in student width (`attn_out_width="student"`), the FFN-output term in student width.

Modules: teacher (offline loading + cache, teacher forward), data (KJV / local text, packing,
held-out split), llama (the shared Llama forward), student (LRCStudent, DenseStudent), losses,
train (the shared-teacher loop, checkpoints), merge (fold into a transformers Llama), record
(RunRecord, CellResult tables), diagnostics (C1 constants, teacher spectra), api (entry points),
tiny (a tiny random Llama teacher written as safetensors and GGUF, for tests). See README.md.

Public API:
    load_teacher(path_or_name="smollm2-135m-instruct", *, cache_dir=None, device="cpu", progress=None) -> Teacher
    distill(config: LRCConfig) -> RunRecord
    merge(student_or_record, save_to=None) -> transformers.LlamaForCausalLM
    train_sweep(config, d_S_values, token_budgets=None, alphas=None) -> list[RunRecord]
    lrc_rank_sweep(config, d_S_values, token_budgets=None, alphas=None, *, store=None) -> StoredCell
    run_cell(cell: dict) -> lrkd.sweep.CellResult        (module-level, for lrkd.sweep.run_grid)
    teacher_spectra(teacher) -> dict[str, np.ndarray]     (C4: singular values per layer and kind)
    store_teacher_outputs(config, ...) -> [Path]          (teacher outputs once; then teacher_outputs="stored")

The names above load on first use (PEP 562): importing one module of the package (say teacher,
for the spectra) does not load the training loop and the students with it.
"""

import importlib

# Bound now, not on first use: `merge` is also the name of a submodule, and importing the
# submodule (anywhere) would set the package's attribute `merge` to that module, shadowing the
# function that a lazy lookup would have returned.
from lrkd.simulate.lrc.merge import merge  # noqa: F401 (exported: __all__ below)

#: public name -> (module, name there)
_EXPORTS = {
    "distill": ("lrkd.simulate.lrc.api", "distill"),
    "lrc_rank_sweep": ("lrkd.simulate.lrc.api", "lrc_rank_sweep"),
    "run_cell": ("lrkd.simulate.lrc.api", "run_cell"),
    "store_teacher_outputs": ("lrkd.simulate.lrc.api", "store_teacher_outputs"),
    "sweep_cell": ("lrkd.simulate.lrc.api", "sweep_cell"),
    "sweep_specs": ("lrkd.simulate.lrc.api", "sweep_specs"),
    "train_sweep": ("lrkd.simulate.lrc.api", "train_sweep"),
    "LRCConfig": ("lrkd.simulate.lrc.config", "LRCConfig"),
    "check_against_teacher": ("lrkd.simulate.lrc.config", "check_against_teacher"),
    "estimate_c1_constants": ("lrkd.simulate.lrc.diagnostics", "estimate_c1_constants"),
    "spectra_rows": ("lrkd.simulate.lrc.diagnostics", "spectra_rows"),
    "teacher_matrices": ("lrkd.simulate.lrc.diagnostics", "teacher_matrices"),
    "teacher_spectra": ("lrkd.simulate.lrc.diagnostics", "teacher_spectra"),
    "RunRecord": ("lrkd.simulate.lrc.record", "RunRecord"),
    "to_cell_result": ("lrkd.simulate.lrc.record", "to_cell_result"),
    "DenseStudent": ("lrkd.simulate.lrc.student", "DenseStudent"),
    "LRCStudent": ("lrkd.simulate.lrc.student", "LRCStudent"),
    "DEFAULT_TEACHER": ("lrkd.simulate.lrc.teacher", "DEFAULT_TEACHER"),
    "Teacher": ("lrkd.simulate.lrc.teacher", "Teacher"),
    "load_teacher": ("lrkd.simulate.lrc.teacher", "load_teacher"),
}
__all__ = sorted([*_EXPORTS, "merge"])


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'lrkd.simulate.lrc' has no attribute {name!r}")
    module, attribute = _EXPORTS[name]
    return getattr(importlib.import_module(module), attribute)


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
