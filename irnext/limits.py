"""Bounds on structured input read from files: YAML aliases, JSON nesting.

Both formats let a small file describe a huge or endless structure (nested YAML aliases, deep
JSON brackets) that exhausts memory or Python's recursion in whatever reads it. The readers
check these bounds before building anything, with an `InputError` naming the file.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from irnext.errors import InputError

# A YAML file of this suite holds at most a few thousand values; aliases (*name) may repeat an
# anchored part, but nested aliases multiply ("billion laughs": 9 levels of 10 aliases expand
# to 10^9 values), which hangs and exhausts memory in whatever walks the result.
MAX_YAML_VALUES = 100_000


def check_yaml_expansion(root: Any, path: Path) -> None:
    """`InputError` when the document, aliases expanded, holds more than MAX_YAML_VALUES
    nodes or an alias inside its own anchor (an endless structure)."""
    sizes: dict[int, int] = {}  # id(node) -> expanded size; -1 while being counted

    def size(node: Any) -> int:
        known = sizes.get(id(node))
        if known == -1:
            raise InputError(f"{path}: a YAML alias refers to its own anchor (endless data)")
        if known is not None:
            return known
        sizes[id(node)] = -1
        total = 1
        if isinstance(node.value, list):
            for child in node.value:  # sequence items, or (key, value) pairs of a mapping
                total += sum(map(size, child)) if isinstance(child, tuple) else size(child)
                if total > MAX_YAML_VALUES:
                    raise InputError(
                        f"{path}: YAML expands to more than {MAX_YAML_VALUES:,} values "
                        "through its aliases (*name); an alias bomb? expected plain data"
                    )
        sizes[id(node)] = total
        return total

    size(root)


# The suite's result files nest a few levels (a summary's means, an ablation's variants); a
# file nested deeper was not written by it, and Python's parser would end in RecursionError.
MAX_JSON_DEPTH = 64
_JSON_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')  # a whole string, or a bracket


def check_json_nesting(text: str, path: str | Path, *, limit: int = MAX_JSON_DEPTH) -> None:
    """`InputError` naming `path` when the JSON `text` nests arrays/objects deeper than
    `limit`; brackets inside strings do not count."""
    depth = 0
    for token in _JSON_TOKENS.finditer(text):
        bracket = token.group()
        if bracket in ("[", "{"):
            depth += 1
            if depth > limit:
                raise InputError(
                    f"{path}: JSON nested more than {limit} levels deep (at character "
                    f"{token.start()}); expected a result file of this suite"
                )
        elif bracket in ("]", "}"):
            depth -= 1
