"""`irnext models`: every named model with its parameters and MACs at 1 x 3 x 256 x 256.

At 256 x 256 the numbers are read from the stored table (irnext.cost.table: counted once, with
their provenance); at another `--size`, or for a model the table lacks, each row is counted as it
is printed (seconds each on a CPU), with a progress note on stderr.
"""

from __future__ import annotations

import argparse
import json
import sys

from irnext.cost.table import SIZE, count_model, stored_counts


def describe(name: str, counts: dict[str, int]) -> dict:
    """Name, task, architecture, params and torch-counted MACs of one named model."""
    from irnext.models.registry import model_entry

    entry = model_entry(name)
    return {
        "name": name,
        "task": entry.task,
        "architecture": entry.architecture,
        "params": counts["params"],
        "gmacs": counts["macs"] / 1e9,
        "input": f"1x3x{counts['size']}x{counts['size']}",
        "licence": entry.licence,
        "assumption": entry.assumption,
        # The default profile's miniatures and irnext-test: configurations of this suite.
        "suite_own": "this suite" in f"{entry.source} {entry.assumption or ''}",
    }


def _row(row: dict) -> str:
    mark = " (suite's own)" if row["suite_own"] else " *" if row["assumption"] else ""
    return (
        f"{row['name']:<24} {row['task'] or '-':<15} {row['params']:>12,} "
        f"{row['gmacs']:>9.2f}  {row['licence']}{mark}"
    )


def _run(args: argparse.Namespace) -> int:
    from irnext.models.registry import list_models

    names = list_models(task=args.task)
    if not args.json:
        print(f"{'model':<24} {'task':<15} {'params':>12} {'GMACs':>9}  licence", flush=True)
    stored = stored_counts() if args.size == SIZE else {}
    rows = []
    for index, name in enumerate(names, 1):
        counts = stored.get(name)
        if counts is None:
            why = " (not in the stored table)" if args.size == SIZE else ""
            print(f"[{index}/{len(names)}] counting {name}{why}", file=sys.stderr, flush=True)
            counts = count_model(name, size=args.size)
        rows.append(describe(name, {**counts, "size": args.size}))
        if not args.json:
            print(_row(rows[-1]), flush=True)
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print(
        f"\nMACs at 1x3x{args.size}x{args.size}: torch FlopCounterMode FLOPs / 2 with the "
        "suite's handles; `irnext complexity` cross-checks fvcore and ptflops."
        + (" Stored counts: python benchmarks/model_counts.py recounts them." if stored else "")
    )
    if any(row["assumption"] and not row["suite_own"] for row in rows):
        print("* configuration inferred, not published: see `irnext models --json`")
    if any(row["suite_own"] for row in rows):
        print(
            "(suite's own): this suite's configuration (the default profile's miniatures are "
            "chosen for equal compute with irnext-mini), not a paper's model"
        )
    return 0


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "models", help="list named models with params and MACs", description=__doc__
    )
    parser.add_argument("--task", help="only models of this task (e.g. dehaze, motion_deblur)")
    parser.add_argument("--size", type=int, default=SIZE, help="square input side for MACs")
    parser.add_argument("--json", action="store_true", help="print JSON records")
    parser.set_defaults(func=_run)
