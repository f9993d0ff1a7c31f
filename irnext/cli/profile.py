"""`irnext profile NAME`: make profiles/NAME.yaml the pipeline's params.yaml (then `dvc repro`);
`irnext params check [FILE]`: validate a params file against every key the pipeline reads.

irnext profile default && dvc repro   # CPU, offline: miniature models, synthetic benchmark
irnext profile gpu && dvc repro       # one GPU: the papers' models on the synthetic benchmark
irnext profile paper && dvc repro     # the real datasets (datasets.yaml) and official weights

The file is checked against the pipeline's schema before it replaces params.yaml, so a broken
profile never reaches a stage. A params.yaml that differs from every profile (edited by hand)
is kept as params.yaml.bak first. `dvc exp run -S` and `dvc exp run --queue` vary it from there.

`irnext params check` runs before `dvc repro` (the pipeline runs it before it trains): a misspelt
key (`train.epcohs`), a quoted number or a dataset root that is not a string (datasets.yaml)
fails here, all problems listed, instead of in the middle of a stage. For the paper profile it
also names every dataset root and official weights file that is not set or not there. The
schema lives with the pipeline (irnext.pipeline.profile_schema).
"""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    _add_check(subparsers)
    parser = subparsers.add_parser("profile", help="select the pipeline's profile (params.yaml)")
    parser.add_argument("name", nargs="?", help="default, gpu or paper (profiles/NAME.yaml)")
    parser.add_argument(
        "--profiles", type=Path, default=Path("profiles"), help="folder of PROFILE.yaml files"
    )
    parser.add_argument(
        "--params", type=Path, default=Path("params.yaml"), help="the params file replaced"
    )
    parser.add_argument("--list", action="store_true", help="list the profiles")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from irnext.pipeline.profile_schema import select_profile

    if args.list or args.name is None:
        print("\n".join(sorted(p.stem for p in args.profiles.glob("*.yaml"))))
        return 0
    source, backup = select_profile(args.name, args.profiles, args.params)
    kept = f" (the previous one kept as {backup})" if backup else ""
    print(f"{args.params} <- {source}{kept}; run `dvc repro`")
    return 0


def _add_check(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "params",
        help="check params.yaml against the pipeline's keys",
        description=__doc__.split("\n\n")[3],
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
    from irnext.pipeline.profile_schema import check_profile

    checked = check_profile(args.file, args.datasets)
    print(f"{' and '.join(checked)}: ok")
    return 0
