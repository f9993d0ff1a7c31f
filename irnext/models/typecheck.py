"""Keyword arguments checked against a constructor's annotations before anything is built.

Model keywords arrive from YAML (ablation studies, params.yaml), the command line and
checkpoints. Python would accept `msm="false"` (a non-empty string is true) or `width=32.5`
and fail much later, or never; here each value is checked against the annotation of the
parameter it sets, and an unknown keyword names the nearest valid ones. The check is strict
where YAML is ambiguous: a bool is not an integer, a string is not a bool; an integer is
accepted where a float is expected, and a list where a tuple or sequence is (YAML and JSON
have no tuples).
"""

from __future__ import annotations

import collections.abc as abc
import inspect
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any

from irnext.errors import InputError, suggest

_NAMES = {bool: "a bool (true or false, unquoted)", int: "an integer", float: "a number"}
_NAMES[str] = "a string"
_SEQUENCES = (abc.Sequence, abc.MutableSequence, list, tuple)


def annotations_of(target: Callable[..., Any]) -> dict[str, Any]:
    """Resolved annotations of a function, or of a class's fields and constructor."""
    hints: dict[str, Any] = {}
    sources = [target, target.__init__] if inspect.isclass(target) else [target]
    for source in sources:
        try:
            hints.update(typing.get_type_hints(source))
        except (NameError, TypeError):  # an annotation that names a type-checking-only import
            continue
    hints.pop("return", None)
    return hints


def check_kwargs(target: Callable[..., Any], kwargs: Mapping[str, Any], *, where: str) -> None:
    """Raise `InputError` for a keyword `target` does not take or a value of the wrong type.

    Keywords a `**kwargs` parameter would absorb are passed on unchecked (their receiver
    checks them); parameters without annotations accept any value.
    """
    parameters = inspect.signature(target).parameters
    open_ended = any(p.kind is p.VAR_KEYWORD for p in parameters.values())
    named = [
        n for n, p in parameters.items() if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    hints = annotations_of(target)
    for key, value in kwargs.items():
        if key not in named:
            if open_ended:
                continue
            raise InputError(
                f"{where}: unknown keyword {key!r}{suggest(key, named)}; "
                f"valid keywords: {', '.join(named)}"
            )
        if key in hints and not matches(value, hints[key]):
            raise InputError(
                f"{where}: {key}={value!r} ({type(value).__name__}) is not {describe(hints[key])}"
            )


def _arms(hint: Any) -> tuple[Any, ...] | None:
    """The alternatives of `X | Y` / Optional[X], or None for any other annotation."""
    origin = typing.get_origin(hint)
    if origin is typing.Union or origin is types.UnionType:
        return typing.get_args(hint)
    return None


def matches(value: Any, hint: Any) -> bool:
    """Whether `value` is of the annotated type (constructs not handled here accept any value)."""
    if hint is Any:
        return True
    if hint is type(None) or hint is None:
        return value is None
    arms = _arms(hint)
    if arms is not None:
        return any(matches(value, arm) for arm in arms)
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is typing.Literal:
        return value in args
    if origin in _SEQUENCES or hint in _SEQUENCES:
        return _matches_sequence(value, origin or hint, args)
    if origin in (dict, abc.Mapping):
        return isinstance(value, Mapping)
    if isinstance(hint, type):
        return isinstance(value, hint)
    return True


def _matches_sequence(value: Any, origin: Any, args: tuple[Any, ...]) -> bool:
    if not isinstance(value, (list, tuple)):
        return False
    if not args:
        return True
    if origin is tuple and not (len(args) == 2 and args[1] is Ellipsis):
        return len(value) == len(args) and all(matches(v, a) for v, a in zip(value, args))
    return all(matches(v, args[0]) for v in value)


def describe(hint: Any) -> str:
    """The expected form in words: 'an integer', 'a list of integers', '... or null'."""
    arms = _arms(hint)
    if arms is not None:
        words = [describe(arm) for arm in arms if arm is not type(None)]
        return " or ".join(words) + (" or null" if type(None) in arms else "")
    if hint in _NAMES:
        return _NAMES[hint]
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is typing.Literal:
        return "one of " + ", ".join(repr(a) for a in args)
    if origin in _SEQUENCES:
        if origin is tuple and args and not (len(args) == 2 and args[1] is Ellipsis):
            return f"a list of {len(args)}: " + ", ".join(describe(a) for a in args)
        inner = describe(args[0]) if args else "values"
        return f"a list of {_plural(inner)}"
    return getattr(hint, "__name__", str(hint))


def _plural(words: str) -> str:
    return {"an integer": "integers", "a number": "numbers", "a string": "strings"}.get(
        words, words
    )
