"""`irnext models`: every named model with its parameters and MACs at 1 x 3 x 256 x 256."""

from __future__ import annotations

import argparse
import json

from irnext.cost.counters import count_macs
from irnext.models.registry import create_model, list_models, model_entry

SIZE = 256


def describe(name: str, *, size: int = SIZE) -> dict:
    """Name, task, architecture, params and torch-counted MACs of one named model."""
    entry = model_entry(name)
    counts = count_macs(create_model(name), (1, 3, size, size), counters=("torch",))
    return {
        "name": name,
        "task": entry.task,
        "architecture": entry.architecture,
        "params": counts["params"],
        "gmacs": counts["macs_torch"] / 1e9,
        "input": f"1x3x{size}x{size}",
        "licence": entry.licence,
        "assumption": entry.assumption,
    }


def _run(args: argparse.Namespace) -> int:
    names = list_models(task=args.task)
    rows = [describe(name, size=args.size) for name in names]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print(f"{'model':<24} {'task':<15} {'params':>12} {'GMACs':>9}  licence")
    for row in rows:
        mark = " *" if row["assumption"] else ""
        print(
            f"{row['name']:<24} {row['task'] or '-':<15} {row['params']:>12,} "
            f"{row['gmacs']:>9.2f}  {row['licence']}{mark}"
        )
    print(
        f"\nMACs at 1x3x{args.size}x{args.size}: torch FlopCounterMode FLOPs / 2 with the "
        "suite's handles; `irnext complexity` cross-checks fvcore and ptflops."
    )
    if any(row["assumption"] for row in rows):
        print("* configuration inferred, not published: see `irnext models --json`")
    return 0


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("models", help="list named models with params and MACs")
    parser.add_argument("--task", help="only models of this task (e.g. dehaze, motion_deblur)")
    parser.add_argument("--size", type=int, default=SIZE, help="square input side for MACs")
    parser.add_argument("--json", action="store_true", help="print JSON records")
    parser.set_defaults(func=_run)
