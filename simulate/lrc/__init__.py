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
"""

from lrkd.simulate.lrc.api import (
    distill,
    lrc_rank_sweep,
    run_cell,
    store_teacher_outputs,
    sweep_cell,
    sweep_specs,
    train_sweep,
)
from lrkd.simulate.lrc.config import LRCConfig, check_against_teacher
from lrkd.simulate.lrc.diagnostics import estimate_c1_constants, spectra_rows, teacher_matrices, teacher_spectra
from lrkd.simulate.lrc.merge import merge
from lrkd.simulate.lrc.record import RunRecord, to_cell_result
from lrkd.simulate.lrc.student import DenseStudent, LRCStudent
from lrkd.simulate.lrc.teacher import DEFAULT_TEACHER, Teacher, load_teacher

__all__ = [
    "DEFAULT_TEACHER",
    "DenseStudent",
    "LRCConfig",
    "LRCStudent",
    "RunRecord",
    "Teacher",
    "check_against_teacher",
    "distill",
    "estimate_c1_constants",
    "load_teacher",
    "lrc_rank_sweep",
    "merge",
    "run_cell",
    "spectra_rows",
    "store_teacher_outputs",
    "sweep_cell",
    "sweep_specs",
    "teacher_matrices",
    "teacher_spectra",
    "to_cell_result",
    "train_sweep",
]
