"""The one exception type for bad user input (files, keys, values).

Its message names the offending file, key or value and the expected form; the CLI prints it
without a traceback and exits with status 2.
"""

import difflib
from collections.abc import Iterable, Mapping
from typing import TypeVar

T = TypeVar("T")


class InputError(ValueError):
    """A file, key or value given by the user is not of the expected form."""


def suggest(name: str, valid: Iterable[str]) -> str:
    """' (did you mean 'x'?)' for the nearest valid names, or '' when none is close."""
    close = difflib.get_close_matches(name, list(valid), n=3, cutoff=0.6)
    return f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""


def lookup(table: Mapping[str, T], name: str, what: str) -> T:
    """`table[name]`; an unknown name is an InputError naming it, the nearest known names and
    every known one (models, architectures, metric protocols, ...)."""
    if name not in table:
        known = ", ".join(table)
        raise InputError(f"unknown {what} '{name}'{suggest(name, table)}; known: {known}")
    return table[name]
