"""Typed configuration: dataclasses loaded from TOML, overridden with `key=value`, stored as JSON.

A config is a (frozen) dataclass whose fields carry type hints: int, float, str, bool, Path,
`Literal[...]`, `X | None`, `tuple[T, ...]`, `list[T]`, `dict[str, T]` and nested dataclasses.
`load` reads a TOML file, applies command-line overrides (`rank=8`, `teacher.noise=0.1`,
`ranks=[1, 2, 4]`), and type-checks every value against the dataclass, so a typo or a wrong type
is a one-line `InputError` naming the key instead of a crash deep inside a run. `to_dict` gives
the JSON form stored with every result; `from_dict(cls, to_dict(cfg)) == cfg` round-trips.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import tomllib
import types
import typing
from pathlib import Path
from typing import Any, Iterable, Literal, Mapping, TypeVar

from lrkd.errors import InputError

C = TypeVar("C")


def load(
    cls: type[C],
    path: str | Path | None = None,
    overrides: Iterable[str] = (),
    *,
    section: str | None = None,
    extra_keys: Iterable[str] = (),
) -> C:
    """Build `cls` from an optional TOML file plus `key=value` overrides.

    `section` reads one table of the file (e.g. "experiment"); `extra_keys` are top-level keys the
    caller consumes itself (e.g. "experiment"), dropped before type checking.
    """
    data = read_toml(path) if path is not None else {}
    if section is not None:
        data = dict(data.get(section, {}))
    for key in extra_keys:
        data.pop(key, None)
    for item in overrides:
        key, value = parse_override(item)
        set_dotted(data, key, value)
    return from_dict(cls, data)


def read_toml(path: str | Path) -> dict[str, Any]:
    """Read a TOML file; a missing or malformed file is an InputError naming it."""
    path = Path(path)
    if not path.is_file():
        raise InputError("config", f"file not found: {path}")
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise InputError("config", f"{path} is not a UTF-8 text file (a TOML config is UTF-8 text)") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError("config", f"{path} is not valid TOML ({exc})") from None


def parse_override(item: str) -> tuple[str, Any]:
    """Split `key=value`; the value is read as a TOML value when it parses, else as a string."""
    key, sep, text = item.partition("=")
    key = key.strip()
    if not sep or not key:
        raise InputError("--set", f"expected key=value, got {item!r}")
    try:
        value = tomllib.loads(f"v = {text.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        value = text.strip()
    return key, value


def set_dotted(data: dict, key: str, value: Any) -> None:
    *parents, leaf = key.split(".")
    for part in parents:
        data = data.setdefault(part, {})
        if not isinstance(data, dict):
            raise InputError(key, f"{part!r} is not a table")
    data[leaf] = value


def from_dict(cls: type[C], data: Mapping[str, Any], *, prefix: str = "") -> C:
    """Type-check `data` against dataclass `cls` and construct it (defaults fill missing keys)."""
    if not isinstance(data, Mapping):
        raise InputError(prefix.rstrip(".") or "config", f"expected a table, got {data!r}")
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        allowed = ", ".join(sorted(fields))
        raise InputError(prefix + unknown[0], f"unknown key; allowed keys: {allowed}")
    hints = typing.get_type_hints(cls)
    kwargs = {name: coerce(hints[name], value, prefix + name) for name, value in data.items()}
    missing = [n for n, f in fields.items() if n not in kwargs and _has_no_default(f)]
    if missing:
        raise InputError(prefix + missing[0], "is required")
    return cls(**kwargs)


def _has_no_default(f: dataclasses.Field) -> bool:
    return f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING


def coerce(tp: Any, value: Any, key: str) -> Any:
    """Return `value` as type `tp`, or raise InputError naming `key` and the expected type."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if tp is Any:
        return value
    if dataclasses.is_dataclass(tp):
        return from_dict(tp, value, prefix=key + ".")
    if origin is Literal:
        if value not in args:
            _wrong(key, "one of " + ", ".join(repr(a) for a in args), value)
        return value
    if origin in (typing.Union, types.UnionType):
        return _coerce_union(args, value, key)
    if origin in (tuple, list):
        return _coerce_sequence(origin, args, value, key)
    if origin is dict or tp is dict:
        if not isinstance(value, Mapping):
            _wrong(key, "a table", value)
        inner = args[1] if args else Any
        return {str(k): coerce(inner, v, f"{key}.{k}") for k, v in value.items()}
    return _coerce_scalar(tp, value, key)


def _coerce_union(args: tuple, value: Any, key: str) -> Any:
    if value is None and type(None) in args:
        return None
    if isinstance(value, str) and value.lower() in ("none", "null") and type(None) in args:
        return None
    for arg in (a for a in args if a is not type(None)):
        try:
            return coerce(arg, value, key)
        except InputError:
            continue
    _wrong(key, " or ".join(_type_name(a) for a in args), value)


def _coerce_sequence(origin: type, args: tuple, value: Any, key: str) -> Any:
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
        _wrong(key, f"a list of {_type_name(args[0]) if args else 'values'}", value)
    if origin is tuple and args and args[-1] is not Ellipsis:
        if len(value) != len(args):
            _wrong(key, f"a list of {len(args)} values", value)
        return tuple(coerce(a, v, f"{key}[{i}]") for i, (a, v) in enumerate(zip(args, value)))
    inner = args[0] if args else Any
    items = [coerce(inner, v, f"{key}[{i}]") for i, v in enumerate(value)]
    return tuple(items) if origin is tuple else items


def _coerce_scalar(tp: Any, value: Any, key: str) -> Any:
    if tp is bool:
        if isinstance(value, bool):
            return value
        _wrong(key, "true or false", value)
    if tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        _wrong(key, "an integer", value)
    if tp is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        _wrong(key, "a number", value)
    if tp is str:
        if isinstance(value, str):
            return value
        _wrong(key, "a string", value)
    if tp is Path:
        if isinstance(value, (str, Path)):
            return Path(value)
        _wrong(key, "a path", value)
    if isinstance(value, tp):
        return value
    _wrong(key, _type_name(tp), value)


def _wrong(key: str, expected: str, value: Any) -> typing.NoReturn:
    raise InputError(key, f"must be {expected}, got {value!r}")


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", str(tp))


def to_dict(cfg: Any) -> Any:
    """The JSON-ready form of a config (dataclasses to dicts, tuples to lists, Paths to str)."""
    if dataclasses.is_dataclass(cfg) and not isinstance(cfg, type):
        return {f.name: to_dict(getattr(cfg, f.name)) for f in dataclasses.fields(cfg)}
    if isinstance(cfg, (list, tuple)):
        return [to_dict(v) for v in cfg]
    if isinstance(cfg, Mapping):
        return {str(k): to_dict(v) for k, v in cfg.items()}
    if isinstance(cfg, Path):
        return str(cfg)
    return cfg


def to_json(cfg: Any) -> str:
    """Canonical JSON (sorted keys): the stored form, and the input of `config_hash`."""
    return json.dumps(to_dict(cfg), sort_keys=True, separators=(",", ":"), allow_nan=True)


def from_json(cls: type[C], text: str) -> C:
    return from_dict(cls, json.loads(text))


def config_hash(cfg: Any) -> str:
    """A short stable hash of a config or a plain mapping (16 hex digits of SHA-256)."""
    return hashlib.sha256(to_json(cfg).encode()).hexdigest()[:16]


def config_keys(cls: type) -> list[tuple[str, str, Any]]:
    """(key, type, default) for every field, nested ones dotted: what `--set` accepts."""
    rows = []
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        tp = hints[f.name]
        if dataclasses.is_dataclass(tp):
            rows += [(f"{f.name}.{k}", t, d) for k, t, d in config_keys(tp)]
            continue
        default = (
            f.default
            if f.default is not dataclasses.MISSING
            else (f.default_factory() if f.default_factory is not dataclasses.MISSING else "(required)")
        )
        rows.append((f.name, _pretty_type(tp), default))
    return rows


def _pretty_type(tp: Any) -> str:
    text = str(tp) if typing.get_origin(tp) else _type_name(tp)
    return text.replace("typing.", "")
