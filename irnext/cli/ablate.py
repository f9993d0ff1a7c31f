"""`irnext ablate`: run an ablation study file (ablations/*.yaml) on a dataset's train and test
splits; the recipe flags are those of `irnext train`."""

from __future__ import annotations

import argparse
from pathlib import Path

from irnext.cli.train import add_config_flags, config_from_args


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("ablate", help="train and score every variant of a study")
    parser.add_argument("--study", required=True, type=Path, help="study file (YAML)")
    parser.add_argument("--base-model", help="replace the study's base model (e.g. irnext-dehaze)")
    parser.add_argument("--dataset", required=True, help="dataset name (see `irnext data list`)")
    parser.add_argument("--root", required=True, type=Path, help="the dataset's folder")
    parser.add_argument("--train-split", default="train", help="split the variants train on")
    parser.add_argument("--test-split", default="test", help="split the variants are scored on")
    parser.add_argument("--device", default="auto", help="auto (cuda if present), cpu, cuda:0")
    parser.add_argument(
        "--seeds", nargs="+", type=int, help="train every variant once per seed (default: --seed)"
    )
    parser.add_argument(
        "--out", required=True, type=Path, help="result JSON (scores); timings go to OUT.run.json"
    )
    add_config_flags(parser)
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from irnext.ablation import load_study, run_study
    from irnext.data import open_dataset
    from irnext.evaluation import resolve_device
    from irnext.io import atomic_write_json, check_writable
    from irnext.names import check_name

    study = load_study(args.study, base_model=args.base_model)
    # the report names the study's figure and table after it: refused now, not after training
    check_name(study.name, what="name", source=args.study)
    config = config_from_args(args)
    for path in (args.out, args.out.with_suffix(".run.json")):
        check_writable(path)  # before the variants train, not after
    result, timings = run_study(
        study,
        train_set=open_dataset(args.dataset, args.root, split=args.train_split),
        test_set=open_dataset(args.dataset, args.root, split=args.test_split),
        config=config,
        seeds=args.seeds or [config.seed],
        device=resolve_device(args.device),
        base_model=args.base_model,
        log=lambda line: print(line, flush=True),
    )
    atomic_write_json(args.out, result, indent=1)
    atomic_write_json(args.out.with_suffix(".run.json"), timings, indent=1)
    print(f"wrote {args.out} and {args.out.with_suffix('.run.json')}")
    return 0
