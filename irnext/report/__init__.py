"""Reports: Markdown and LaTeX tables and matplotlib figures rendered from result files (no
model code)."""

from irnext.report.load import collect
from irnext.report.render import render_report

__all__ = ["collect", "render_report"]
