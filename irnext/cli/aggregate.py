"""`irnext aggregate`: the papers' cross-set figures from `irnext evaluate` summaries.

irnext aggregate rain13k runs/{test100,rain100h,rain100l,test2800,test1200}/summary.json
irnext aggregate dpdd results/evaluate/dpdd/M/summary.json --out results/aggregates/dpdd-M.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from irnext.errors import InputError


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "aggregate",
        help="Rain13K average, DPDD indoor/outdoor/combined from evaluation summaries",
        description=__doc__,
    )
    parser.add_argument(
        "kind",
        choices=("rain13k", "dpdd"),
        help="rain13k: mean of the five set means; dpdd: per scene category and combined",
    )
    parser.add_argument("summaries", nargs="+", type=Path, help="summary.json files")
    parser.add_argument("--out", type=Path, help="write the aggregate JSON here")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from irnext.evaluation import dpdd_aggregates, json_safe, rain13k_average, read_summary

    summaries = [read_summary(path) for path in args.summaries]
    if args.kind == "dpdd":
        if len(summaries) != 1:
            raise InputError(f"dpdd takes one summary (the test split); got {len(summaries)}")
        aggregate = dpdd_aggregates(summaries[0])
    else:
        aggregate = rain13k_average(summaries)
    aggregate["sources"] = [str(path) for path in args.summaries]
    text = json.dumps(json_safe(aggregate), indent=2, allow_nan=False) + "\n"
    if args.out:
        from irnext.io import atomic_write_text

        atomic_write_text(args.out, text)
        print(f"wrote {args.out}")
    else:
        print(text, end="")
    return 0
