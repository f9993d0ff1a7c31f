"""Tables rendered from one display frame: the Markdown in the report and the booktabs LaTeX in
results/tables/ come from the same strings, so the two can never disagree."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from irnext.io import atomic_write_text

PLUS_MINUS = "±"


def cell(value: Any, digits: int = 2) -> str:
    """A number or value as the tables show it ('-' for a missing one)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return f"{value:.{digits}f}" if abs(value) >= 1 or value == 0 else f"{value:.4f}"
    return str(value).replace("\n", " ")


def frame(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> pd.DataFrame:
    """A display frame: every cell already a string (numbers through `cell`)."""
    cells = [[v if isinstance(v, str) else cell(v) for v in row] for row in rows]
    return pd.DataFrame(cells, columns=list(header), dtype=object)


def to_markdown(table: pd.DataFrame) -> str:
    """A GitHub-flavoured table of the display frame."""

    def escape(text: Any) -> str:
        return str(text).replace("|", "\\|")

    lines = ["| " + " | ".join(escape(c) for c in table.columns) + " |"]
    lines.append("|" + "---|" * len(table.columns))
    lines += ["| " + " | ".join(escape(v) for v in row) + " |" for row in table.to_numpy()]
    return "\n".join(lines)


def to_latex(table: pd.DataFrame, name: str) -> str:
    """booktabs `tabular` of the display frame (first column left, the others right)."""
    body = table.to_latex(
        index=False, escape=True, column_format="l" + "r" * (len(table.columns) - 1)
    )
    body = body.replace(PLUS_MINUS, r"$\pm$")
    return f"% {name}: rendered by `irnext report` from the result files (needs booktabs)\n{body}"


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    return to_markdown(frame(header, rows))


class TableWriter:
    """Renders each table as Markdown and writes its LaTeX and CSV twins to `folder`/<name>.tex
    and `folder`/<name>.csv (the displayed strings; the comparisons' numbers are in
    comparisons.csv, `write_rows`)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.written: list[Path] = []

    def __call__(self, table: pd.DataFrame, name: str) -> str:
        path = atomic_write_text(self.folder / f"{name}.tex", to_latex(table, name))
        csv = atomic_write_text(self.folder / f"{name}.csv", table.to_csv(index=False))
        self.written += [path, csv]
        return to_markdown(table)

    def write_rows(self, name: str, columns: Sequence[str], rows: Sequence[dict]) -> Path:
        """Records as `folder`/<name>.csv with `columns` (empty cells for None)."""
        table = pd.DataFrame(list(rows), columns=list(columns), dtype=object)  # 12, not 12.0
        path = atomic_write_text(self.folder / f"{name}.csv", table.to_csv(index=False))
        self.written.append(path)
        return path
