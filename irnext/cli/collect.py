"""`irnext collect` and `irnext visual`: the per-task summaries of irnext.pipeline.summary.

irnext collect --task haze --models irnext-mini restormer-mini --seeds 0 1
    -> results/metrics/haze.json, DVC metrics: {model: {psnr_db, ssim, seeds,
       psnr_db_std_seeds (with 2+ seeds)}}
irnext visual --task haze --dataset synth-haze --root data/synth/haze --models ... --seed 0
    -> results/visual/haze/K_{input,target,MODEL}.png and visual.json: the --count test images
       whose PSNR differs most between the models, each zoomed where their outputs differ most

Both read only files the pipeline wrote (summary.json of each evaluation, the checkpoints).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from irnext.names import check_name


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    collect = subparsers.add_parser("collect", help="per-task DVC metrics from the evaluations")
    visual = subparsers.add_parser("visual", help="test images restored by every model")
    for parser in (collect, visual):
        parser.add_argument("--task", required=True, help="the task whose results are read")
        parser.add_argument("--models", nargs="+", required=True, help="models of the profile")
        parser.add_argument("--results", type=Path, default=Path("results"), help="results folder")
    collect.add_argument("--seeds", nargs="+", type=int, required=True, help="seeds to aggregate")
    collect.add_argument("--out", type=Path, help="default RESULTS/metrics/TASK.json")
    collect.set_defaults(func=_collect)
    visual.add_argument("--dataset", required=True, help="the test set's dataset name")
    visual.add_argument("--root", required=True, type=Path, help="the dataset's folder")
    visual.add_argument("--seed", type=int, default=0, help="which seed's checkpoints")
    visual.add_argument(
        "--models-dir", type=Path, default=Path("models"), help="trained checkpoints"
    )
    visual.add_argument("--crop", type=int, default=64, help="side of the zoomed window")
    visual.add_argument(
        "--count", type=int, default=3, help="test images shown: those the models differ most on"
    )
    visual.set_defaults(func=_visual)


def _check_names(args: argparse.Namespace) -> None:
    """The task and model names (from params.yaml, through dvc.yaml) name files here."""
    check_name(args.task, what="--task", source="the command line")
    for model in args.models:
        check_name(model, what="--models entry", source="the command line")


def _collect(args: argparse.Namespace) -> int:
    from irnext.pipeline.summary import write_metrics

    _check_names(args)
    out = write_metrics(args.results, args.task, args.models, args.seeds, out=args.out)
    print(f"wrote {out}")
    return 0


def _visual(args: argparse.Namespace) -> int:
    from irnext.pipeline.summary import write_visual

    _check_names(args)
    out = write_visual(
        args.results,
        args.task,
        args.models,
        dataset=args.dataset,
        root=args.root,
        models_dir=args.models_dir,
        seed=args.seed,
        crop=args.crop,
        count=args.count,
    )
    print(f"wrote {out}")
    return 0
