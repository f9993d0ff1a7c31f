"""Reports: Markdown tables and matplotlib figures rendered from result files (no model code)."""

from irnext.report.render import collect, render_report

__all__ = ["collect", "render_report"]
