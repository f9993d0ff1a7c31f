"""`irnext profile NAME`: make profiles/NAME.yaml the pipeline's params.yaml (then `dvc repro`).

irnext profile default && dvc repro   # CPU, offline: miniature models, synthetic benchmark
irnext profile gpu && dvc repro       # one GPU: the papers' models on the synthetic benchmark
irnext profile paper && dvc repro     # the real datasets (datasets.yaml) and official weights

The file is checked against the pipeline's schema before it replaces params.yaml, so a broken
profile never reaches a stage. A params.yaml that differs from every profile (edited by hand)
is kept as params.yaml.bak first. `dvc exp run -S` and `dvc exp run --queue` vary it from there.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from irnext.errors import InputError


def add_parser(subparsers: argparse._SubParsersAction) -> None:
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
    from irnext.cli.params import check_params, load_params
    from irnext.io import atomic_write_text

    known = sorted(p.stem for p in args.profiles.glob("*.yaml"))
    if args.list or args.name is None:
        print("\n".join(known))
        return 0
    source = args.profiles / f"{args.name}.yaml"
    if not source.is_file():
        raise InputError(f"{source}: no such profile; known: {', '.join(known) or 'none'}")
    # Studies and stage names are looked up beside params.yaml, where dvc.yaml reads them.
    problems = check_params(load_params(source), source=args.params)
    if problems:
        raise InputError(f"{source} is not a valid profile:\n" + "\n".join(problems))
    text, backup = source.read_text(), _backup(args.params, args.profiles)
    if backup:
        atomic_write_text(backup, args.params.read_text())  # first, so no edit is ever lost
    atomic_write_text(args.params, text)
    kept = f" (the previous one kept as {backup})" if backup else ""
    print(f"{args.params} <- {source}{kept}; run `dvc repro`")
    return 0


def _backup(params: Path, profiles: Path) -> Path | None:
    """Where the current params file is kept before it is replaced (PARAMS.bak); None when
    there is no file or it equals a profile byte for byte (nothing to lose). So switching
    profiles twice after an edit keeps the edit, not the profile it was replaced by."""
    if not params.is_file():
        return None
    current = params.read_bytes()
    if any(current == p.read_bytes() for p in profiles.glob("*.yaml")):
        return None
    return params.with_name(params.name + ".bak")
