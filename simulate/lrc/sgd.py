"""Plain constant-step SGD on the LRC projections, with the constants of claim C1 measured.

The setting of Ghadimi & Lan (2013), made exact on the real model: the objective is a finite sum
over `n_batches` fixed training batches,

    f(P) = (1/n_b) sum_i loss(P; batch_i)        (KL + LM + alpha * clone: non-negative, inf f >= 0)

and the stochastic gradient is the gradient on one batch drawn uniformly with replacement, an
unbiased estimate of grad f. The update is P <- P - eta g: no momentum, weight decay, clipping,
warm-up or schedule (torch.optim.SGD with those off; tests check it against a hand-written step).
Measured:
  grad_dot     g_t . g'_t with g'_t the gradient on a second, independent uniform batch at P_t:
               an unbiased estimate of ||grad f(P_t)||^2 (E[g . g'] = grad f . grad f), so the mean
               over t < T estimates the quantity the bound controls, (1/T) sum_t E||grad f(P_t)||^2;
  at probe points (`probe_steps`): f(P) exactly, ||grad f(P)||^2 exactly, sigma^2(P) =
               (1/n_b) sum_i ||g_i - grad f||^2 (exactly the variance of the uniform draw), and
               L(P), the largest |eigenvalue| of the Hessian of f, by power iteration on
               finite-difference Hessian-vector products (a local curvature along the path).
`step_size` gives eta for a budget T from the constants at P_0: min(1/L', sqrt(2 Delta / (L' sigma^2 T)))
with L' = margin x L(P_0): the curvature of a deep network grows along the path (measured: up to
1.4x its start value on SmolLM2's layers), and eta <= 1/L must hold where the path goes, not only
at its start. Whether it did is checked afterwards against the L measured along the path.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import torch
from torch.nn.utils import parameters_to_vector, vector_to_parameters

from lrkd.errors import InputError
from lrkd.simulate.lrc.config import LRCConfig, check_against_teacher
from lrkd.simulate.lrc.data import BatchStream, build_corpus, subsample
from lrkd.simulate.lrc.losses import loss_terms
from lrkd.simulate.lrc.teacher import Teacher, cache_root, load_teacher
from lrkd.simulate.lrc.train import StudentSpec, Trainee, prepare_teacher, resolve_precision, teacher_source

FD_RELATIVE_EPS = 1e-3


def sgd_config(config: LRCConfig, lr: float) -> LRCConfig:
    """The config with plain constant-step SGD at `lr` (what C1 assumes), everything else kept.

    Args:
        config: the student's config.
        lr: the constant step size eta.

    Returns:
        A new LRCConfig: no momentum, weight decay, warm-up, schedule or clipping.
    """
    return replace(
        config,
        optimizer="sgd",
        lr=lr,
        momentum=0.0,
        weight_decay=0.0,
        schedule="constant",
        warmup_steps=0,
        max_grad_norm=0.0,
    )


class SGDProblem:
    """One student (width d_S, seed) on the finite-sum objective over n_batches fixed batches.

    Args:
        config: the student and data (its optimizer settings are replaced by plain SGD).
        n_batches: the finite sum's size (>= 2).
        teacher: an already loaded teacher to use (None: load config.teacher).
    """

    def __init__(self, config: LRCConfig, n_batches: int, *, teacher: Teacher | None = None):
        if n_batches < 2:
            raise InputError("n_batches", f"must be >= 2 (sigma^2 needs two batches), got {n_batches}")
        self.prec = resolve_precision(config.device, config.dtype)
        teacher = teacher or load_teacher(config.teacher, cache_dir=config.cache_dir, device=self.prec.device)
        teacher.to(self.prec.device).to_dtype(self.prec.param_dtype)
        check_against_teacher(config, teacher.arch)
        self.teacher = prepare_teacher(teacher, config)
        self.teacher.set_compute_dtype(self.prec.autocast_dtype)
        tokens = n_batches * config.tokens_per_step
        config = replace(config, train_tokens=tokens)
        corpus = build_corpus(
            self.teacher.tokenizer,
            config.text,
            config.seq_len,
            heldout_every=config.heldout_every,
            cache_dir=cache_root(config.cache_dir),
            min_train=n_batches * config.batch_size,
        )
        train = subsample(self.teacher.encode(corpus.train), tokens, seed=config.seed)
        stream = BatchStream(train, config.batch_size, config.seed)  # its first epoch = the n_b batches
        spec = StudentSpec(config.d_S, config.alpha, n_batches, config.tokens_per_step)
        source = teacher_source(config, self.teacher, stream, [spec], self.prec)
        self.config, self.n_batches = config, n_batches
        self.trainee = Trainee(spec, sgd_config(config, config.lr), self.teacher)
        need_acts = bool(self.trainee.clone_kinds)
        self.batches = [source.batch(i, need_acts) for i in range(n_batches)]

    @property
    def params(self) -> list[torch.nn.Parameter]:
        """The student's trainable parameters (P, norms)."""
        return self.trainee.params

    def loss_and_grad(self, i: int) -> tuple[float, torch.Tensor]:
        """Loss on batch i and its gradient (one flat float64 vector) at the current P.

        Args:
            i: the batch (0..n_batches-1).

        Returns:
            (loss, gradient).
        """
        with self.prec.autocast():
            loss, _ = loss_terms(self.trainee, *self.batches[i])
        grads = torch.autograd.grad(loss, self.params)
        return float(loss.detach()), torch.cat([g.reshape(-1).double() for g in grads])

    def full(self) -> tuple[float, torch.Tensor, torch.Tensor]:
        """f(P), grad f(P) and every batch gradient (n_b x params).

        Returns:
            (f, grad f, the stacked batch gradients).
        """
        losses, grads = zip(*(self.loss_and_grad(i) for i in range(self.n_batches)))
        stacked = torch.stack(grads)
        return float(np.mean(losses)), stacked.mean(0), stacked

    def constants(self, power_iters: int, *, seed: int) -> dict:
        """f, ||grad f||^2, sigma^2 and L at the current point (see the module docstring).

        Args:
            power_iters: Hessian power iterations for L.
            seed: the power iteration's start vector.

        Returns:
            A row: f, grad_f_norm_sq, sigma2, L, n_batches, power_iters, n_params.
        """
        f, mean, stacked = self.full()
        sigma2 = float(((stacked - mean) ** 2).sum(1).mean())
        lipschitz = self._power_iteration(power_iters, seed)
        return {
            "f": f,
            "grad_f_norm_sq": float(mean @ mean),
            "sigma2": sigma2,
            "L": lipschitz,
            "n_batches": self.n_batches,
            "power_iters": power_iters,
            "n_params": int(mean.numel()),
        }

    def _power_iteration(self, iters: int, seed: int) -> float:
        with torch.no_grad():
            theta = parameters_to_vector(self.params).detach().clone()
        eps = FD_RELATIVE_EPS * max(1.0, float(theta.norm()))
        v = torch.randn(theta.numel(), generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
        v /= v.norm()
        estimate = math.nan
        try:
            for _ in range(iters):
                step = eps * v.to(theta)
                hv = (self._grad_f_at(theta + step) - self._grad_f_at(theta - step)) / (2 * eps)
                estimate = float(hv.norm())
                if not math.isfinite(estimate) or estimate == 0:
                    break
                v = hv / estimate
        finally:
            with torch.no_grad():
                vector_to_parameters(theta, self.params)
        return estimate

    def _grad_f_at(self, point: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            vector_to_parameters(point, self.params)
        return self.full()[1]

    def sgd_step(self, i: int, lr: float) -> tuple[float, torch.Tensor]:
        """One update on batch i with the trainee's torch SGD at `lr`; returns (loss, gradient used).

        Args:
            i: the batch (0..n_batches-1).
            lr: the step size.

        Returns:
            (loss before the update, the flat float64 gradient used).
        """
        opt = self.trainee.optimizer
        for group in opt.param_groups:
            group["lr"] = lr
        opt.zero_grad(set_to_none=True)
        with self.prec.autocast():
            loss, _ = loss_terms(self.trainee, *self.batches[i])
        loss.backward()
        grad = torch.cat([p.grad.reshape(-1).double() for p in self.params])
        opt.step()
        return float(loss.detach()), grad

    def state(self) -> list[torch.Tensor]:
        """A copy of the current parameters (for restore).

        Returns:
            One detached tensor per parameter.
        """
        return [p.detach().clone() for p in self.params]

    def restore(self, state: list[torch.Tensor]) -> None:
        """Set the parameters back to a saved state.

        Args:
            state: what state() returned.
        """
        with torch.no_grad():
            for p, s in zip(self.params, state):
                p.copy_(s)


L_MARGIN = 2.0


def step_size(constants: dict, budget: int, margin: float = L_MARGIN) -> float:
    """Ghadimi-Lan's constant step for T steps, min(1/L', sqrt(2 Delta / (L' sigma^2 T))), with
    L' = margin x L(P_0) and Delta = f(P_0) (see the module docstring).

    Args:
        constants: SGDProblem.constants at P_0 (L, sigma2, f).
        budget: T, the number of steps.
        margin: the factor on L(P_0).

    Returns:
        eta.
    """
    lipschitz, sigma2, delta = margin * constants["L"], constants["sigma2"], constants["f"]
    return float(min(1.0 / lipschitz, math.sqrt(2.0 * delta / (lipschitz * sigma2 * budget))))


def sgd_runs(
    config: LRCConfig,
    budgets: list[int],
    *,
    n_batches: int = 4,
    power_iters: int = 4,
    probe_fractions: tuple[float, ...] = (0.25, 1.0),
    teacher: Teacher | None = None,
) -> dict:
    """SGD paths for every budget T from one start (the config's seed): tables for validate/.

    Args:
        config: the student: d_S, alpha, seed, data; its optimizer settings are replaced by plain SGD.
        budgets: the step counts T, distinct, >= 1.
        n_batches: the finite sum's size.
        power_iters: Hessian power iterations per probe point.
        probe_fractions: where along the longest path the constants are measured again, as fractions of
            its length (P_0 always).
        teacher: an already loaded teacher to use (None: load config.teacher).

    Returns:
        {"steps": rows per (T, t), "constants": rows per probe point, "runs": rows per T (with the
        resolved precision in `dtype`)}.
    """
    budgets = sorted({int(b) for b in budgets})
    if not budgets or budgets[0] < 1:
        raise InputError("budgets", f"must be step counts >= 1, got {budgets}")
    problem = SGDProblem(config, n_batches, teacher=teacher)
    start = problem.state()
    rng_seed = [config.seed, 4099]
    c0 = {**problem.constants(power_iters, seed=config.seed), "step": 0, "T": 0}
    constants, steps, runs = [c0], [], []
    longest = budgets[-1]
    probes = sorted({max(1, int(round(f * longest))) for f in probe_fractions})
    for budget in budgets:
        problem.restore(start)
        eta = step_size(c0, budget)
        draws = np.random.default_rng([*rng_seed, budget]).integers(0, n_batches, size=(budget, 2))
        dots, sq = [], []
        for t, (i, j) in enumerate(draws):
            _, other = problem.loss_and_grad(int(j))  # at P_t, before the update
            loss, grad = problem.sgd_step(int(i), eta)
            dots.append(float(grad @ other))
            sq.append(float(grad @ grad))
            steps.append(
                {"T": budget, "step": t, "batch": int(i), "loss": loss, "grad_norm_sq": sq[-1], "grad_dot": dots[-1]}
            )
            if budget == longest and t + 1 in probes:
                point = problem.constants(power_iters, seed=config.seed + t + 1)
                constants.append({**point, "step": t + 1, "T": budget})
        runs.append(
            {
                "T": budget,
                "lr": eta,
                "avg_grad_dot": float(np.mean(dots)),
                "avg_grad_norm_sq_minibatch": float(np.mean(sq)),
                "f0": c0["f"],
                "L0": c0["L"],
                "sigma2_0": c0["sigma2"],
                "eta_L0": eta * c0["L"],
                "L_margin": L_MARGIN,
                "dtype": problem.prec.name,
            }
        )
    problem.teacher.set_compute_dtype(None)
    return {"steps": steps, "constants": constants, "runs": runs}
