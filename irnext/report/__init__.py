"""Reports: Markdown and LaTeX tables and matplotlib figures rendered from result files (no
model code).

The two entry points load on first use (PEP 562), so that a module which needs one piece of the
package (the profile's seed rule in `irnext.report.cells`, say) does not import the renderer,
its figures and pandas."""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {"collect": "irnext.report.load", "render_report": "irnext.report.render"}

__all__ = list(_LAZY)


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'irnext.report' has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value
