"""Config round-trips and type checking (lrkd/config.py)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Literal

import pytest

from lrkd import config
from lrkd.errors import InputError, require_int_in


@dataclass(frozen=True)
class Teacher:
    m: int = 8
    noise: float = 0.1
    spectrum: Literal["power_law", "exponential"] = "power_law"


@dataclass(frozen=True)
class Sweep:
    name: str = "demo"
    ranks: tuple[int, ...] = (1, 2, 4)
    steps: int | None = None
    float64: bool = True
    teacher: Teacher = field(default_factory=Teacher)

    def __post_init__(self):
        for r in self.ranks:
            require_int_in(r, "ranks", 1, 64)


def test_toml_to_dataclass_to_json_round_trip(tmp_path):
    path = tmp_path / "sweep.toml"
    path.write_text(
        'name = "rt"\nranks = [2, 3]\nsteps = 50\n[teacher]\nm = 16\nnoise = 0.5\nspectrum = "exponential"\n'
    )
    cfg = config.load(Sweep, path)
    assert cfg == Sweep("rt", (2, 3), 50, True, Teacher(16, 0.5, "exponential"))
    stored = config.to_json(cfg)
    assert config.from_json(Sweep, stored) == cfg
    assert json.loads(stored)["teacher"]["m"] == 16


def test_overrides_are_type_checked_and_dotted(tmp_path):
    cfg = config.load(Sweep, None, ["ranks=[1, 5]", "teacher.noise=2", "steps=none", "name=plain"])
    assert cfg.ranks == (1, 5) and cfg.teacher.noise == 2.0 and cfg.steps is None
    assert cfg.name == "plain"


@pytest.mark.parametrize(
    "override, field_name",
    [
        ("rank=3", "rank"),  # unknown key
        ("teacher.mm=3", "teacher.mm"),  # unknown nested key
        ("steps=abc", "steps"),  # wrong type
        ("float64=1", "float64"),  # int is not a bool
        ("teacher.spectrum=cosine", "teacher.spectrum"),  # not an allowed literal
        ("ranks=[0]", "ranks"),  # out of range
    ],
)
def test_bad_overrides_name_the_field(override, field_name):
    with pytest.raises(InputError) as err:
        config.load(Sweep, None, [override])
    assert err.value.field == field_name
    assert "\n" not in str(err.value)


def test_missing_file_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        config.load(Sweep, tmp_path / "nope.toml")


def test_hash_is_stable_and_sensitive():
    assert config.config_hash(Sweep()) == config.config_hash(Sweep())
    assert config.config_hash(Sweep()) != config.config_hash(Sweep(ranks=(1, 2)))
