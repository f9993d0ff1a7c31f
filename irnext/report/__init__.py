"""Reports: Markdown and LaTeX tables and matplotlib figures rendered from result files (no
model code).

The two entry points load on first use (PEP 562), so that a module which needs one piece of the
package (the profile's seed rule in `irnext.report.cells`, say) does not import the renderer,
its figures and pandas."""

from __future__ import annotations

from irnext._lazy import lazy_getattr

_LAZY = {"collect": "irnext.report.load", "render_report": "irnext.report.render"}

__all__ = list(_LAZY)


__getattr__ = lazy_getattr(__name__, _LAZY)
