"""C3: AM-GM behind the trace form and the Gaussian closed forms, checked by sympy."""

import pytest
import sympy as sp

from lrkd.theory import information as info


def test_tangent_line_inequality():
    assert info.check_tangent_line()


@pytest.mark.parametrize("dim", [1, 2, 3, 4])
def test_amgm_on_eigenvalues(dim):
    assert info.check_amgm(dim)


def test_trace_form_is_weaker_than_logdet_form():
    assert info.check_trace_form_weaker()


def test_gaussian_closed_form_scalar_pair():
    assert info.check_gaussian_scalar()


def test_gaussian_closed_form_canonical_block():
    assert info.check_gaussian_canonical_block()


def test_gaussian_mi_invariant_under_invertible_maps():
    assert info.check_gaussian_invariance()


def test_rejects_closed_form_with_half_dropped():
    wrong = -sp.log(1 - info.rho**2)
    assert not info.check_gaussian_scalar(wrong)
    assert not info.check_gaussian_canonical_block(wrong)
