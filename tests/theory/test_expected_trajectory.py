"""theory.convergence.expected_average_grad_norm_sq: the closed form against the recursion it solves."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from lrkd.theory.convergence import expected_average_grad_norm_sq, optimal_step_size


def _recursion(h, x0, sigma, eta, steps):
    """E||grad||^2 averaged over t < steps by iterating v_{t+1} = (1 - eta h)^2 v_t + eta^2 sigma^2/d."""
    v, total = x0**2, 0.0
    for _ in range(steps):
        total += np.sum(h**2 * v)
        v = (1 - eta * h) ** 2 * v + eta**2 * sigma**2 / h.size
    return total / steps


@given(
    st.lists(st.floats(0.0, 2.0), min_size=1, max_size=6),
    st.floats(0.0, 3.0),
    st.floats(1e-3, 0.9),
    st.integers(1, 300),
)
# found in CI: the first-order series put S 1e-9 off; log((1 - eta h)^2) put (T - S)/a 15% off
@example([1e-9], 0.0, 0.5, 3)
@example([1e-9, 1e-12], 1.0, 0.9, 300)
def test_closed_form_solves_the_second_moment_recursion(eigenvalues, sigma, eta, steps):
    h = np.asarray(eigenvalues)
    x0 = np.linspace(-1.0, 1.0, h.size)
    exact = expected_average_grad_norm_sq(h, x0, sigma, eta, steps)
    assert exact == pytest.approx(_recursion(h, x0, sigma, eta, steps), rel=1e-9, abs=1e-300)


def test_local_slope_approaches_minus_one_half_under_the_step_rule():
    """eta ~ T^(-1/2): the local slope tends to the asymptotic -1/2 from above as the grid moves out."""
    h = np.linspace(0.1, 1.0, 16)
    x0 = np.full(16, 0.25)
    delta = 0.5 * np.dot(h, x0**2)
    slopes = []
    for start in (1e2, 1e4, 1e6):
        t = start * 2.0 ** np.arange(7)
        y = expected_average_grad_norm_sq(h, x0, 1.0, optimal_step_size(1.0, 1.0, delta, t), t)
        slopes.append(np.polyfit(np.log(t), np.log(y), 1)[0])
    assert -0.5 < slopes[0] and all(abs(b + 0.5) < abs(a + 0.5) for a, b in zip(slopes, slopes[1:]))
