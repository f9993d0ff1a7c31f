"""`irnext report`: render results/report.md and its figures from the result files.

The report reads exactly the cells of the profile in `--params` (default params.yaml): its
tasks, models and seeds (`irnext.pipeline.profile.report_profile`); `--every-result` reads
every result found instead (a report of ad-hoc evaluations, outside the pipeline).
"""

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
    which = parser.add_mutually_exclusive_group()
    which.add_argument(
        "--params", type=Path, default=Path("params.yaml"), help="the profile whose cells to read"
    )
    which.add_argument(
        "--every-result", action="store_true", help="read every result found, not a profile's"
    )
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from irnext.errors import InputError
    from irnext.io import check_writable
    from irnext.pipeline.profile import load_params, report_profile
    from irnext.report import render_report

    if not args.results.is_dir():
        raise InputError(f"{args.results}: results folder not found")
    profile = None
    if not args.every_result:
        if not args.params.is_file():
            raise InputError(
                f"{args.params}: profile not found; pass --params FILE (the profile whose cells "
                "the report compares) or --every-result"
            )
        profile = report_profile(load_params(args.params))
    check_writable(args.out)
    out = render_report(args.results, args.out, published=args.published, profile=profile)
    print(f"wrote {out}")
    return 0
