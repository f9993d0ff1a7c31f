"""Checking a YAML mapping against a schema: every problem at once, one line each.

A schema is a nested dict whose leaves are `Key` (one value's type, range and allowed names),
`AnyKeys` (a mapping of free names, each value of one form) or `Validated` (a mapping whose
keys and values a library class checks itself, e.g. the training recipe). A misspelt key is
reported with the nearest valid one. `irnext.pipeline.profile` holds the pipeline's schemas.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Key:
    """One leaf of params.yaml: its type, lower bound and allowed values."""

    kind: type  # bool, int, float (an int is accepted), str or list
    low: float | None = None  # inclusive lower bound of a number
    above: float | None = None  # exclusive lower bound of a number
    nullable: bool = False  # null allowed
    items: type | None = None  # the element type of a list
    choices: Callable[[Path], list[str] | None] | None = None  # allowed strings (None: any)
    required: bool = True
    also: tuple = ()  # further literal values allowed, e.g. "auto" for a count
    check: Callable[[Any], str | None] | None = None  # a further rule: why a value fails


@dataclass(frozen=True)
class AnyKeys:
    """A mapping whose keys are names (e.g. dataset names), every value of one `Key` form."""

    value: Key
    names: Callable[[Path], list[str]]


@dataclass(frozen=True)
class Validated:
    """A mapping whose keys are `names` and whose values `validate(mapping)` checks as a whole
    (why they fail, or None): a library class's own validation, never a copy of its rules."""

    names: tuple[str, ...]
    validate: Callable[[dict[str, Any]], str | None]


def check_mapping(node: Any, schema: dict[str, Any], *, source: str | Path) -> list[str]:
    """Every problem of `node` against `schema`, one line each, prefixed with `source`; names
    (studies) are looked up next to `source`."""
    problems: list[str] = []
    _check_node(node, schema, "", Path(source).parent, problems)
    return [f"{source}: {problem}" for problem in problems]


def _check_node(node: Any, spec: Any, where: str, base: Path, problems: list[str]) -> None:
    if isinstance(spec, Key):
        problem = _check_value(node, spec, base)
        if problem:
            problems.append(f"{where} = {node!r}: {problem}")
        return
    if not isinstance(node, dict):
        problems.append(f"{where or 'top level'}: expected a mapping, got {node!r:.60}")
        return
    if isinstance(spec, Validated):
        _unknown(node, list(spec.names), where, problems)
        problem = spec.validate({k: v for k, v in node.items() if k in spec.names})
        if problem:  # "lr: expected ..." -> "train.lr: expected ...": the key's full name
            named = problem.split()[0].rstrip(":") in spec.names
            problems.append(f"{where}.{problem}" if named else f"{where}: {problem}")
        return
    if isinstance(spec, AnyKeys):
        names = spec.names(base)
        _unknown(node, names, where, problems)
        for key, value in node.items():
            if key in names:
                _check_node(value, spec.value, _join(where, key), base, problems)
        return
    _unknown(node, list(spec), where, problems)
    for key, value in node.items():
        if key in spec:
            _check_node(value, spec[key], _join(where, key), base, problems)
    for key, child in spec.items():
        if key not in node and (not isinstance(child, Key) or child.required):
            problems.append(f"missing key '{_join(where, key)}'")


def _unknown(node: dict, names: list[str], where: str, problems: list[str]) -> None:
    for key in node:
        if key not in names:
            problems.append(f"unknown key '{_join(where, key)}'{_nearest(key, names, where)}")


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else str(key)


def _nearest(key: Any, names: list[str], where: str) -> str:
    close = difflib.get_close_matches(str(key), names, n=2, cutoff=0.6)
    return f" (did you mean {' or '.join(_join(where, c) for c in close)}?)" if close else ""


def _check_value(value: Any, key: Key, base: Path) -> str | None:
    """Why `value` does not fit `key`, or None when it does."""
    if value is None:
        return None if key.nullable else f"expected {_kind_name(key)}, got null"
    if any(value == v and type(value) is type(v) for v in key.also):
        return None
    if not _is_kind(value, key.kind):
        return f"expected {_kind_name(key)}, got {type(value).__name__}"
    values = value if key.kind is list else [value]
    if key.items is not None and any(not _is_kind(v, key.items) for v in values):
        return f"expected a list of {key.items.__name__}"
    if key.choices is not None:
        allowed = key.choices(base)
        wrong = [v for v in values if allowed is not None and v not in allowed]
        if wrong:
            close = difflib.get_close_matches(str(wrong[0]), allowed, n=2, cutoff=0.6)
            nearest = f" (did you mean {' or '.join(map(repr, close))}?)" if close else ""
            return f"{wrong[0]!r} is not one of {allowed}{nearest}"
    if key.check is not None and key.check(value):
        return key.check(value)
    if key.kind is float and not math.isfinite(value):
        return "expected a finite number"
    if key.low is not None and value < key.low:
        return f"expected >= {key.low}"
    if key.above is not None and not value > key.above:
        return f"expected > {key.above}"
    return None


def _is_kind(value: Any, kind: type) -> bool:
    if isinstance(value, bool):  # YAML true/false are not numbers
        return kind is bool
    if kind is float:
        return isinstance(value, (int, float))
    return isinstance(value, kind)


def _kind_name(key: Key) -> str:
    words = {bool: "true or false", int: "an integer", float: "a number", str: "a string"}
    name = words.get(key.kind, f"a {key.kind.__name__}")
    name = " or ".join([name, *(repr(v) for v in key.also)])
    return f"{name} or null" if key.nullable else name
