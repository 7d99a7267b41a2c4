"""check_claim: one verdict for one claim on one experiment's Runs.

Built-in claims are read by the check written for their experiment (the table below). A claim
registered by a user (theory.register_claim) that names an experiment, its columns and its
measured column is read by the generic path: validate.bounds for bound claims, an exponent fit
for exponent claims. Every number comes from the runs; nothing here is written by hand.
"""
from __future__ import annotations

from typing import Callable

import theory
from lrkd.errors import InputError
from validate import c1, c2, c3, c4, real
from validate.bounds import BoundSpec, bound_verdict
from validate.checks import decide, exponent_outcome, finite_size_offsets, fit_mean_power_law
from validate.experiments import Runs
from validate.verdict import Verdict

Check = Callable[[theory.Claim, Runs], Verdict]


def _c1(runs: Runs, claim) -> Verdict:
    return c1.convergence_verdict(claim, runs["evidence"], experiment=runs.name,
                                  prediction=predictions(runs).get(c1.C1_SPEC.measured))


def predictions(runs: Runs) -> dict:
    """{measured column: validate.checks.Prediction} that theory gives for this experiment's grid."""
    if runs.experiment == "c1_quadratic" and "problem" in runs.context:
        return {"avg_grad_norm_sq": c1.quadratic_prediction(runs.context["problem"])}
    if runs.experiment == "c2_generalization":
        return {"gen_gap": c2.gap_prediction()}
    return {}


def _transfer(runs: Runs, claim) -> Verdict:
    if "transfer" not in runs:  # a raw convergence_sweep frame: measure now
        teacher = teacher_of_frame(runs["trajectory"])
        runs["transfer"] = c1.transfer_evidence(runs["trajectory"], teacher)
    return c1.transfer_verdict(claim, runs["transfer"], experiment=runs.name)


def teacher_of_frame(frame):
    """The teacher a simulate frame was produced with, from its teacher.* columns."""
    import simulate

    return simulate.teacher_from_dict(_nested(frame.iloc[0], "teacher."))


def _gap(runs: Runs, claim) -> Verdict:
    return c2.gap_verdict(claim, runs["sweep"], experiment=runs.name)


def _gap_sqrt(runs: Runs, claim) -> Verdict:
    return c2.sqrt_form_verdict(claim, runs["sweep"], runs.context["norms"], experiment=runs.name)


def _rrr(runs: Runs, claim) -> Verdict:
    return c2.rrr_reference_verdict(claim, runs["sweep"], experiment=runs.name)


def _mi(runs: Runs, claim) -> Verdict:
    return c3.mutual_information_verdict(claim, runs, experiment=runs.name)


def _mi_trace(runs: Runs, claim) -> Verdict:
    return c3.mutual_information_verdict(claim, runs, experiment=runs.name, trace=True)


def _rank(runs: Runs, claim) -> Verdict:
    return c4.rank_verdict(claim, runs["sweep"], experiment=runs.name, spectrum=runs.context["spectrum"],
                           singular_values=runs.context["singular_values"])


def _real_c1(runs: Runs, claim) -> Verdict:
    return real.convergence_verdict(claim, runs["convergence"], experiment=runs.name)


def _real_c2(runs: Runs, claim) -> Verdict:
    return real.generalization_verdict(claim, runs["generalization"], experiment=runs.name)


def _real_c3(runs: Runs, claim) -> Verdict:
    return real.information_verdict(claim, runs["information"], runs["mi_benchmark"], experiment=runs.name)


def _real_c4(runs: Runs, claim) -> Verdict:
    return real.rank_verdict(claim, runs["rank"], experiment=runs.name, teacher=runs.label)


def _spectra(runs: Runs, claim) -> Verdict:
    table = runs["spectra"]
    values = {name: group.sort_values("k")["s"].to_numpy() for name, group in table.groupby("matrix", sort=False)}
    shapes = {name: (int(group["rows"].iloc[0]), int(group["cols"].iloc[0]))
              for name, group in table.groupby("matrix", sort=False)}
    return c4.spectrum_verdict(claim, values, experiment=runs.name, shapes=shapes)


CHECKS: dict[tuple[str, str], Callable[[Runs, theory.Claim], Verdict]] = {
    ("c1_quadratic", "convergence"): _c1,
    ("c1_lowrank", "convergence"): _c1,
    ("c1_lowrank", "smoothness_transfer"): _transfer,
    ("c2_generalization", "generalization"): _gap,
    ("c2_generalization", "generalization_lora_sqrt"): _gap,
    ("c2_generalization", "generalization_c1"): _gap,
    ("c2_generalization", "generalization_sqrt"): _gap_sqrt,
    ("c2_generalization", "rrr_excess_risk"): _rrr,
    ("c3_information", "mutual_information"): _mi,
    ("c3_information", "mutual_information_trace"): _mi_trace,
    ("c4_rank", "optimal_rank"): _rank,
    ("lrc_real", "convergence"): _real_c1,
    ("lrc_real", "generalization"): _real_c2,
    ("lrc_real", "generalization_c1"): _real_c2,
    ("lrc_real", "mutual_information"): _real_c3,
    ("lrc_real", "optimal_rank"): _real_c4,
    ("teacher_spectra", "optimal_rank"): _spectra,
}

def register_check(experiment: str, claim_id: str, check: Callable[[Runs, theory.Claim], Verdict]) -> None:
    """Bind a claim to an experiment's evidence with a check of your own."""
    CHECKS[(experiment, claim_id)] = check


def check_claim(claim_id: str | theory.Claim, runs) -> Verdict:
    """The verdict of one claim (an id or a Claim) on one experiment's runs: the `Runs` of an
    experiment, or what simulate/ returns directly (a rank_sweep, convergence_sweep or
    quadratic_sweep frame, a DeepSweep or a CloneSweep)."""
    claim = claim_id if isinstance(claim_id, theory.Claim) else theory.get_claim(claim_id)
    runs = runs if isinstance(runs, Runs) else as_runs(runs, claim.id, rank_claim=claim.experiment in RSTAR_CHECKS)
    check = CHECKS.get((runs.experiment, claim.id))
    if check is None and claim.kind == "exponent":
        check = RSTAR_CHECKS.get(runs.experiment)  # any r* growth claim: the C4 growth-law check
    if check is not None:
        return check(runs, claim)
    if claim.experiment == runs.experiment and claim.measured_column:
        return generic_verdict(claim, runs)
    raise InputError("claim", f"no check binds claim {claim.id!r} to experiment {runs.experiment!r}; "
                     "set the claim's experiment, columns and measured_column, or register_check()")


RANK_CLAIMS = ("optimal_rank",)
RSTAR_CHECKS = {"c4_rank": _rank}  # experiments producing r*(N): every exponent claim on them uses C4


def as_runs(result, claim_id: str, *, rank_claim: bool = False) -> Runs:
    """Wrap a simulate/ result as the Runs of the experiment that produces it."""
    import pandas as pd

    import simulate

    if isinstance(result, simulate.DeepSweep):
        tables, context = c3.deep_tables(result, noise_std=c3.DEFAULT_NOISE_STD)
        return Runs("c3_information", f"{result.teacher.activation} teacher", tables, **context)
    if isinstance(result, simulate.CloneSweep):
        seeds = sorted(result.frame["seed"].unique())
        rank = int(result.frame["rank"].iloc[0])
        alphas = sorted(result.frame["alpha"].unique())
        evidence = c3.shallow_evidence(result, rank, alphas, seeds=seeds, noise_std=0.1)
        return Runs("c3_information", "one-layer teacher", {"trajectory": result.frame, "evidence": evidence},
                    noise_std=0.1, activation="linear")
    if not isinstance(result, pd.DataFrame) or result.empty:
        raise InputError("runs", "must be an experiment's Runs, a simulate sweep frame or a CloneSweep, "
                         f"got {type(result).__name__}")
    if "test_risk" in result and "step" not in result:
        teacher = simulate.teacher_from_dict(_nested(result.iloc[0], "teacher."))
        if claim_id in RANK_CLAIMS or rank_claim:
            return Runs("c4_rank", "", {"sweep": result}, spectrum=teacher.spectrum.to_dict(),
                        singular_values=teacher.singular_values)
        norms = c2.data_norms(teacher, int(result["n_samples"].max()), result, seeds=sorted(result["seed"].unique()))
        return Runs("c2_generalization", "", {"sweep": result.assign(zero_risk=c2.zero_risk(teacher))}, norms=norms)
    if "avg_grad_norm_sq" in result:
        if "L_exact" in result:
            return Runs("c1_lowrank", "", {"trajectory": result, "evidence": c1.lowrank_evidence(result)})
        return Runs("c1_quadratic", "", {"trajectory": result, "evidence": c1.quadratic_evidence(result)})
    raise InputError("runs", "a frame from simulate.rank_sweep, convergence_sweep or quadratic_sweep; "
                     f"its columns {sorted(result.columns)[:8]}... match none of them")


def _nested(row, prefix: str) -> dict:
    """{'teacher.spectrum.alpha': 1} -> {'spectrum': {'alpha': 1}} for the keys under prefix."""
    out: dict = {}
    for key, value in row.items():
        if isinstance(key, str) and key.startswith(prefix):
            *parents, leaf = key[len(prefix):].split(".")
            node = out
            for part in parents:
                node = node.setdefault(part, {})
            node[leaf] = value.item() if hasattr(value, "item") else value
    return out


def claims_checked_by(runs: Runs) -> list[theory.Claim]:
    """Built-in and user claims that have a check on this experiment."""
    ids = [cid for (exp, cid) in CHECKS if exp == runs.experiment]
    ids += [c.id for c in theory.all_claims() if c.experiment == runs.experiment and c.id not in ids
            and (c.measured_column or (c.kind == "exponent" and runs.experiment in RSTAR_CHECKS))]
    return [theory.get_claim(i) for i in ids]


def generic_verdict(claim: theory.Claim, runs: Runs) -> Verdict:
    """A user claim on the first table of the runs holding every column it names."""
    needed = {*claim.columns.values(), claim.measured_column}
    table = next((t for t in runs.values() if needed <= set(t.columns)), None)
    if table is None:
        raise InputError("columns", f"no table of {runs.experiment} has the columns {sorted(needed)}")
    rates = {v: claim.columns[v] for v in claim.rate_variables if v in claim.columns}
    if claim.kind == "exponent":
        return _generic_exponent(claim, table, rates, runs.name, predictions(runs).get(claim.measured_column))
    grid = tuple(dict.fromkeys(c for c in claim.columns.values() if table[c].nunique() > 1))
    trends = {v: ("decay" if float(claim.claimed_exponents[v]) < 0 else "growth") for v in rates}
    grid = grid or tuple(claim.columns.values())[:1]
    spec = BoundSpec(columns=claim.columns, measured=claim.measured_column, grid=grid,
                     rates=rates, trends=trends, x=next(iter(rates.values()), None))
    return bound_verdict(claim, table, spec, experiment=runs.name,
                         prediction=predictions(runs).get(claim.measured_column))


def _generic_exponent(claim, table, rates, experiment, prediction=None) -> Verdict:
    fits = fit_mean_power_law(table, list(rates.values()), claim.measured_column)
    offsets = finite_size_offsets(prediction, table, list(rates.values())) if prediction else {}
    outcomes = [exponent_outcome(fits[col], variable=v, claimed=float(claim.claimed_exponents[v]),
                                 trend="decay" if float(claim.claimed_exponents[v]) < 0 else "growth",
                                 offset=offsets.get(col))
                for v, col in rates.items()]
    decision = decide(exponents=outcomes, n_seeds=outcomes[0].fit.n_groups if outcomes else None)
    numbers = {k: v for o in outcomes for k, v in o.numbers.items()}
    return Verdict(claim.id, experiment, decision.code, decision.explanation, numbers, None,
                   decision.would_change, tuple(outcomes[0].fit.notes) if outcomes else ())
