"""Package attributes imported on first use (PEP 562): `import irnext` and the command line's
`--help` stay free of torch, and a module that needs one piece of a package does not import the
rest of it."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any


def lazy_getattr(package: str, table: Mapping[str, str]) -> Callable[[str], Any]:
    """The module `__getattr__` of `package`: name -> `table[name]`'s attribute of that name,
    imported on first access and then kept in the package (later lookups skip this)."""

    def __getattr__(name: str) -> Any:
        if name not in table:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(table[name]), name)
        setattr(sys.modules[package], name, value)
        return value

    return __getattr__
