"""`irnext report`: render results/report.md and its figures from the result files."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "report", help="render the Markdown report, figures and LaTeX tables from results/"
    )
    parser.add_argument("--results", type=Path, default=Path("results"), help="results folder")
    parser.add_argument(
        "--out", type=Path, default=Path("results/report.md"), help="the Markdown report"
    )
    parser.add_argument(
        "--published",
        type=Path,
        default=Path("benchmarks/published"),
        help="folder of published figures; the report reads quality.yaml",
    )
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from irnext.errors import InputError
    from irnext.io import check_writable
    from irnext.report import render_report

    if not args.results.is_dir():
        raise InputError(f"{args.results}: results folder not found")
    check_writable(args.out)
    print(f"wrote {render_report(args.results, args.out, published=args.published)}")
    return 0
