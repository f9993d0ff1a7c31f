"""`irnext params check [FILE]`: validate params.yaml against every key the pipeline reads.

Run before `dvc repro` (the pipeline runs it before it trains): a misspelt key
(`train.epcohs`), a quoted number or a dataset root that is not a string (datasets.yaml) fails
here, all problems listed, instead of in the middle of a stage. For the paper profile it also
names every dataset root and official weights file that is not set or not there.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from irnext.cli.params import DATASETS_SCHEMA, check_params, load_params
from irnext.errors import InputError


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "params", help="check params.yaml against the pipeline's keys", description=__doc__
    )
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    check = actions.add_parser("check", help="validate types, ranges and key names")
    check.add_argument(
        "file", nargs="?", type=Path, default=Path("params.yaml"), help="the params file"
    )
    check.add_argument(
        "--datasets",
        type=Path,
        default=Path("datasets.yaml"),
        help="dataset roots, checked too where the file exists",
    )
    check.set_defaults(func=_check)


def _check(args: argparse.Namespace) -> int:
    from irnext.cli.bench_paper import check_baselines, missing_files

    params = load_params(args.file)
    problems = check_params(params, source=args.file)
    problems += [f"{args.file}: {problem}" for problem in check_baselines(params)]
    checked = [str(args.file)]
    roots = {}
    if args.datasets.is_file():
        roots = load_params(args.datasets)
        problems += check_params(roots, source=args.datasets, schema=DATASETS_SCHEMA)
        checked.append(str(args.datasets))
    # The paper profile: every dataset root and weights file it reads, all named at once.
    found = roots.get("datasets") if isinstance(roots.get("datasets"), dict) else {}
    problems += missing_files(params, found, datasets=str(args.datasets))
    if problems:
        raise InputError(f"{len(problems)} problem(s):\n" + "\n".join(problems))
    print(f"{' and '.join(checked)}: ok")
    return 0
