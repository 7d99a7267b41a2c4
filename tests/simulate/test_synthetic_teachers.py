"""Spectra and teachers (simulate/spectra.py, simulate/teachers.py): planted values, determinism,
serialization, nested samples, and one-line InputErrors for bad input."""

import math

import numpy as np
import pytest
import torch

from lrkd import simulate
from lrkd.errors import InputError
from lrkd.simulate.spectra import spectrum_from_dict
from lrkd.simulate.teachers import teacher_from_dict


def test_spectrum_families_follow_their_formulas():
    np.testing.assert_allclose(simulate.PowerLaw(1.5, 2.0).first(3), 2.0 * np.array([1, 2**-1.5, 3**-1.5]))
    np.testing.assert_allclose(simulate.Exponential(0.5).first(3), np.exp(-0.5 * np.arange(1, 4)))
    np.testing.assert_allclose(simulate.LowRankPlusFloor(2, 3.0, 0.1).first(4), [3, 3, 0.1, 0.1])
    np.testing.assert_allclose(simulate.Explicit([1.0, 3.0, 2.0]).first(5), [3, 2, 1, 0, 0])


@pytest.mark.parametrize(
    "spectrum",
    [
        simulate.PowerLaw(0.7, 1.5),
        simulate.Exponential(0.3),
        simulate.LowRankPlusFloor(3, 2.0, 0.01),
        simulate.Explicit([2.0, 1.0]),
    ],
)
def test_spectra_round_trip_through_their_dict(spectrum):
    assert spectrum_from_dict(spectrum.to_dict()) == spectrum


@pytest.mark.parametrize("m,n", [(9, 5), (5, 9), (6, 6)])
def test_linear_teacher_has_the_planted_singular_values(seed, m, n):
    teacher = simulate.LinearTeacher(m, n, simulate.PowerLaw(1.0, 2.0), 0.1, seed)
    np.testing.assert_allclose(
        np.linalg.svd(teacher.weight, compute_uv=False), teacher.singular_values, rtol=1e-12, atol=1e-13
    )
    assert teacher.approx_error(2) == pytest.approx(float(np.sum(teacher.singular_values[2:] ** 2)), rel=1e-12)


def test_teachers_are_deterministic_and_serializable():
    a = simulate.LinearTeacher(6, 4, simulate.Exponential(0.4), 0.2, 7)
    np.testing.assert_array_equal(a.weight, simulate.LinearTeacher(6, 4, simulate.Exponential(0.4), 0.2, 7).weight)
    assert not np.allclose(a.weight, simulate.LinearTeacher(6, 4, simulate.Exponential(0.4), 0.2, 8).weight)
    assert teacher_from_dict(a.to_dict()) == a
    mlp = simulate.MLPTeacher(3, 4, 5, simulate.PowerLaw(1.0, 2.0), simulate.Explicit([1.0, 0.5]), 0.1, 2, "relu")
    rebuilt = teacher_from_dict(mlp.to_dict())
    assert rebuilt == mlp
    np.testing.assert_array_equal(rebuilt.w1, mlp.w1)
    np.testing.assert_allclose(np.linalg.svd(mlp.w2, compute_uv=False), [1.0, 0.5, 0.0], atol=1e-12)


def test_samples_are_nested_in_the_sample_size_and_have_the_stated_noise():
    teacher = simulate.LinearTeacher(3, 4, simulate.PowerLaw(1.0), 0.7, 0)
    small, large = teacher.sample(50, seed=1), teacher.sample(20_000, seed=1)
    np.testing.assert_array_equal(small.x, large.x[:50])
    np.testing.assert_array_equal(small.y, large.y[:50])
    np.testing.assert_allclose(large.clean, large.x @ teacher.weight.T)
    assert np.var(large.y - large.clean) == pytest.approx(0.49, rel=0.03)
    assert not np.allclose(teacher.sample(50, seed=2).x, small.x)


def test_mlp_teacher_outputs_are_the_two_layer_map():
    teacher = simulate.MLPTeacher(3, 4, 6, simulate.PowerLaw(1.0, 2.0), simulate.PowerLaw(1.0), 0.0, 0, "gelu")
    sample = teacher.sample(10, seed=0)
    hidden = torch.nn.functional.gelu(torch.from_numpy(sample.x @ teacher.w1.T)).numpy()
    np.testing.assert_allclose(sample.y, hidden @ teacher.w2.T, rtol=1e-12)


BAD = [
    (lambda: simulate.PowerLaw(0.0), "alpha: must be a finite number > 0, got 0.0"),
    (lambda: simulate.PowerLaw(-1), "alpha: must be a finite number > 0, got -1"),
    (lambda: simulate.Exponential(0), "beta: must be a finite number > 0, got 0"),
    (lambda: simulate.Explicit([1.0, math.nan]), "values[1]: must be a finite number >= 0.0, got nan"),
    (lambda: simulate.Explicit([1.0, -2.0]), "values[1]: must be a finite number >= 0.0, got -2.0"),
    (lambda: simulate.Explicit([]), "values: must be a non-empty list of numbers, got []"),
    (lambda: simulate.LinearTeacher(3, 3, simulate.Explicit([1, 2, 3, 4])), "values: has 4 singular values"),
    (lambda: simulate.LinearTeacher(0, 3, simulate.PowerLaw(1.0)), "m: must be an integer in [1, 65536], got 0"),
    (lambda: simulate.LinearTeacher(3, 3, simulate.PowerLaw(1.0), -0.1), "noise: must be a finite number >= 0.0"),
    (lambda: simulate.LinearTeacher(3, 3, simulate.PowerLaw(1.0), math.inf), "noise: must be a finite number"),
    (lambda: simulate.LinearTeacher(2, 2, "power law"), "spectrum: must be a PowerLaw"),
    (
        lambda: simulate.LinearTeacher(2, 2, simulate.PowerLaw(1.0), input_cov=[[1, 0], [0, -1]]),
        "input_cov: must be a finite symmetric positive semi-definite 2 x 2 matrix",
    ),
    (lambda: simulate.LinearTeacher(2, 2, simulate.PowerLaw(1.0), input_cov=[[1, 0.5], [0, 1]]), "input_cov"),
    (
        lambda: simulate.MLPTeacher(2, 2, 2, simulate.PowerLaw(1.0), simulate.PowerLaw(1.0), activation="sigmoid"),
        "activation: must be one of tanh, relu, gelu",
    ),
    (
        lambda: simulate.LinearTeacher(2, 2, simulate.PowerLaw(1.0)).sample(0, seed=0),
        "n_samples: must be an integer >= 1, got 0",
    ),
]


@pytest.mark.parametrize("make,message", BAD, ids=[m.split(":")[0] for _, m in BAD])
def test_bad_input_is_a_one_line_input_error_naming_the_field(make, message):
    with pytest.raises(InputError) as info:
        make()
    assert str(info.value).startswith(message)
    assert "\n" not in str(info.value)
