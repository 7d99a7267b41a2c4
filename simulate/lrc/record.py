"""What a run leaves behind: `RunRecord`, and its form for the results store (`CellResult`).

Tables (one row per student and step; column names are what validate/ reads):
  trajectory   one row per evaluation step (log-spaced): held-out LM loss / perplexity / KL, held-out
               clone terms on the fixed MI batch, the training-loss terms and gradient norms averaged
               over the steps since the previous evaluation, and the LM loss on fixed training batches
  steps        one row per optimizer step t: the minibatch loss terms and ||grad f(P_t)|| (pre-clip)
  final        one row per student: final metrics, token counts, throughput, memory, divergence
  hidden_index one row per stored hidden-state array (teacher or student, layer, step, clone loss)
  c1           (when c1_estimates) crude L and sigma^2 estimates at the first and last step
Arrays: `hidden.teacher.L{l}` (mi_tokens x d_T) and `hidden.{student}.L{l}.step{s}` (mi_tokens x d_S).
Every student row carries `student` (a label such as "dS192-a0.2-N61440"), `method`, `d_S`,
`alpha`, `token_budget` (= tokens seen) and the divergence columns of the lrkd contract.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from lrkd.simulate.lrc.llama import CLONE_KINDS
from lrkd.sweep import CellResult

TABLES = ("trajectory", "steps", "final", "hidden_index", "c1")
TRAJECTORY_COLUMNS = (
    "student",
    "method",
    "d_S",
    "alpha",
    "token_budget",
    "step",
    "tokens_seen",
    "lr",
    "train_loss",
    "train_kl",
    "train_lm_loss",
    "clone_loss",
    *(f"clone_{k}" for k in CLONE_KINDS),
    "grad_norm",
    "grad_norm_sq",
    "grad_norm_sq_min",
    "heldout_lm_loss",
    "heldout_ppl",
    "heldout_kl",
    "heldout_clone_loss",
    *(f"heldout_clone_{k}" for k in CLONE_KINDS),
    "train_eval_lm_loss",
    "generalization_gap",
    "elapsed_s",
    "diverged",
)


@dataclass
class RunRecord:
    """One trained student: its config, tables, hidden states, and the student itself."""

    config: dict[str, Any]
    label: str
    trajectory: list[dict[str, Any]]
    steps: list[dict[str, Any]]
    final: dict[str, Any]
    hidden: dict[str, np.ndarray] = field(default_factory=dict)
    hidden_index: list[dict[str, Any]] = field(default_factory=list)
    c1: list[dict[str, Any]] = field(default_factory=list)
    run_dir: str = ""
    completed: bool = True
    student: Any = None  # the trained LRCStudent / DenseStudent (not stored)

    @property
    def d_S(self) -> int:
        """The student's width."""
        return self.final["d_S"]

    def heldout_losses(self) -> list[tuple[int, float]]:
        """(step, held-out LM loss) at every evaluation step.

        Returns:
            One pair per trajectory row.
        """
        return [(row["step"], row["heldout_lm_loss"]) for row in self.trajectory]

    def to_cell_result(self):
        """This record alone as an lrkd CellResult.

        Returns:
            to_cell_result([self]).
        """
        return to_cell_result([self])


def to_cell_result(records: list[RunRecord]):
    """Concatenate the tables of several records (one sweep) into one lrkd CellResult.

    Args:
        records: the sweep's records; the teacher's hidden-state arrays they share are kept once.

    Returns:
        A CellResult with the tables trajectory, steps, final, hidden_index, c1 (those not empty) and
        the hidden-state arrays.
    """
    tables = {name: [] for name in TABLES}
    arrays: dict[str, np.ndarray] = {}
    seen_teacher_arrays: set[str] = set()
    for record in records:
        tables["trajectory"] += record.trajectory
        tables["steps"] += record.steps
        tables["final"].append(record.final)
        tables["c1"] += record.c1
        for row in record.hidden_index:
            if row["role"] == "teacher":
                if row["array"] in seen_teacher_arrays:
                    continue
                seen_teacher_arrays.add(row["array"])
            tables["hidden_index"].append(row)
        arrays.update(record.hidden)
    return CellResult({k: [_jsonable(r) for r in v] for k, v in tables.items() if v}, arrays)


def _jsonable(row: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for key, value in row.items():
        if isinstance(value, np.generic):
            value = value.item()
        out[key] = value
    return out
