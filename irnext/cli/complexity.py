"""`irnext complexity`: parameters and MACs of a named model from three counters.

irnext complexity --model irnext-dehaze            # table (ptflops and torch: seconds)
irnext complexity --model restormer --size 736 1280 --json
irnext complexity --model restormer --counters fvcore ptflops torch   # all three cross-checked
irnext complexity --all --json > complexity.json

ptflops and torch count on meta tensors (shapes only); fvcore traces a real forward pass on the
CPU (restormer: ~15 s and 3.5 GB on 2 cores), so it runs only when asked for. The pipeline's
complexity stage runs all three.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

COUNTERS = ("fvcore", "ptflops", "torch")  # irnext.cost.counters.COUNTERS, without torch
SHAPE_ONLY = ["ptflops", "torch"]  # the default: no arithmetic, no activations held

# The published figures live with the benchmarks, next to the official timings.
DEFAULT_PUBLISHED = Path(__file__).resolve().parents[2] / "benchmarks" / "published" / "cost.yaml"


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "complexity",
        help="parameters and MACs (fvcore, ptflops, torch) of named models",
        description=__doc__,
    )
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--model", help="a name from `irnext models`")
    which.add_argument("--all", action="store_true", help="every named model")
    parser.add_argument(
        "--size", nargs=2, type=int, default=(256, 256), metavar=("H", "W"), help="input size"
    )
    parser.add_argument("--batch", type=int, default=1, help="input batch size")
    parser.add_argument(
        "--counters",
        nargs="+",
        default=SHAPE_ONLY,
        choices=COUNTERS,
        help="MAC counters to run and compare (fvcore: a real CPU forward, slow)",
    )
    parser.add_argument(
        "--published",
        type=Path,
        default=DEFAULT_PUBLISHED,
        help="published figures (YAML), the paper's column",
    )
    parser.add_argument("--json", action="store_true", help="print the records as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from irnext.cost.complexity import load_published, model_complexity
    from irnext.models.registry import list_models

    published = load_published(args.published) if args.published.exists() else None
    names = list_models() if args.all else [args.model]
    records = []
    for index, name in enumerate(names, 1):
        if args.all:  # minutes in all: say where it is (stderr: stdout is the JSON)
            print(f"[{index}/{len(names)}] counting {name}", file=sys.stderr, flush=True)
        records.append(
            model_complexity(
                name, size=args.size, batch=args.batch, counters=args.counters, published=published
            )
        )
    if args.json:
        print(json.dumps(records if args.all else records[0], indent=2))
    else:
        print(render_table(records, counters=args.counters))
    return 0


def render_table(records: list[dict[str, Any]], *, counters: list[str]) -> str:
    header = [
        "model",
        "params",
        *[f"G {c}" for c in counters],
        "gap %",
        "uncounted",
        "paper G (counter)",
    ]
    rows = [header]
    for r in records:
        reported = r.get("reported") or {}
        paper = f"{reported['gmacs']} ({reported.get('counter')})" if reported.get("gmacs") else "-"
        rows.append(
            [
                r["model"],
                f"{r['params']:,}",
                *[f"{r[f'macs_{c}'] / 1e9:.2f}" for c in counters],
                f"{100 * r['max_relative_gap']:.3f}",
                str(len(r["uncounted_ops"])),
                paper,
            ]
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)) for row in rows]
    shape = "x".join(str(s) for s in records[0]["input_shape"])
    return "\n".join([f"MACs at {shape} (irnext.cost.conventions)", *lines])
