"""`irnext train`: train a named model on a dataset split with the paper's recipe.

`--recipe` picks a named recipe (`irnext.training.recipes`; default the official ITS dehazing
one; a baseline's own recipe the loop cannot yet honour is refused, docs/recipes.md) and every
field of `TrainConfig` is a flag (`--epochs`, `--batch-size`, ...) overriding it; every field
of `EngineOptions` is a flag too (`--save-every-steps`, `--log-every`, ...). The checkpoint
stores the recipe it was trained with. Progress goes to stderr, the one-line JSON summary to
stdout.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from pathlib import Path

from irnext.errors import InputError
from irnext.training.config import EngineOptions, TrainConfig, config_dict
from irnext.training.recipes import recipe_names, recipe_status, train_config

EPILOG = """\
several GPUs (one process each; --batch-size is per process, so N processes train at N x it):
  torchrun --nproc_per_node 4 -m irnext train --model irnext-dehaze ... --batch-size 1
several machines (run on each, --node-rank 0..N-1, the same endpoint everywhere):
  torchrun --nnodes 2 --node-rank 0 --nproc_per_node 8 \\
      --rdzv-backend c10d --rdzv-endpoint HOST:29500 -m irnext train ...
rank 0 alone logs and writes --out, its .best checkpoint, --history and --timing.
See docs/training.md (checkpoints, resuming, deterministic and fast modes)."""

_ENGINE_HELP = {
    "log_every": "steps between loss reads and progress lines (the only GPU sync)",
    "save_every": "also write --out (resumable) every EPOCHS epochs; 0: at the end only",
    "save_every_steps": "also write --out (resumable, mid-epoch) every N steps; 0: never",
    "val_every_steps": "validate on --val-split every N steps (and at the end); 0: each epoch",
    "channels_last": "NHWC memory layout (faster convolutions on tensor-core GPUs)",
    "compile": "torch.compile the forward pass",
}


def _parse_bool(text: str) -> bool:
    if text.lower() in ("1", "true", "yes"):
        return True
    if text.lower() in ("0", "false", "no"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")


def _parse_workers(text: str) -> int | str:
    if text == "auto":
        return text
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer or 'auto', got {text!r}") from None


def _parse_stages(text: str) -> tuple[tuple[int, ...], ...]:
    """--progressive '[[92000, 128, 64], [64000, 160, 40]]': TrainConfig checks the values."""
    try:
        stages = json.loads(text)
        return tuple(tuple(stage) for stage in stages)
    except (ValueError, TypeError):
        raise argparse.ArgumentTypeError(
            f"expected JSON [[steps, patch_size, batch_size], ...], got {text!r}"
        ) from None


def _add_field_flag(parser: argparse.ArgumentParser, field: dataclasses.Field, hint: str) -> None:
    flag, default = "--" + field.name.replace("_", "-"), field.default
    if isinstance(default, bool):
        parser.add_argument(flag, type=_parse_bool, metavar="BOOL", help=hint)
    elif field.name == "progressive":
        hint += "; JSON [[steps, patch_size, batch_size], ...]"
        parser.add_argument(flag, type=_parse_stages, metavar="JSON", help=hint)
    elif field.name == "restart_periods":
        parser.add_argument(flag, type=int, nargs="+", help=hint)
    elif isinstance(default, tuple):
        parser.add_argument(flag, type=float, nargs=len(default) or "+", help=hint)
    elif field.name == "grad_clip":
        parser.add_argument(flag, type=float, help=hint + "; 0 disables clipping")
    elif field.name == "num_workers":
        parser.add_argument(flag, type=_parse_workers, metavar="N|auto", help=hint)
    else:
        parser.add_argument(flag, type=type(default), help=hint)


def add_config_flags(parser: argparse.ArgumentParser) -> None:
    """--recipe NAME, then one flag per TrainConfig field overriding the recipe's value."""
    names = ", ".join(f"{name} ({recipe_status(name)})" for name in recipe_names())
    parser.add_argument(
        "--recipe",
        default="its",
        choices=recipe_names(),
        help=f"base recipe (docs/recipes.md): {names}",
    )
    for field in dataclasses.fields(TrainConfig):
        _add_field_flag(parser, field, f"default: the recipe's (its: {field.default})")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "train",
        help="train a model with the paper's recipe",
        description=__doc__.split("\n\n")[1],
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--model", required=True, help="named model (see `irnext models`)")
    parser.add_argument(
        "--model-kwargs", default="{}", help="JSON overrides, e.g. '{\"lam\": false}'"
    )
    parser.add_argument("--dataset", required=True, help="dataset name (see `irnext data list`)")
    parser.add_argument("--root", required=True, type=Path, help="the dataset's folder")
    parser.add_argument("--split", default="train", help="the split to train on")
    parser.add_argument("--val-split", help="split to validate on (never the test split)")
    parser.add_argument("--device", default="auto", help="auto (cuda if present), cpu, cuda:0")
    parser.add_argument("--out", required=True, type=Path, help="last checkpoint to write (.pt)")
    parser.add_argument("--history", type=Path, help="JSON log to write (deterministic values)")
    parser.add_argument("--timing", type=Path, help="JSON of seconds, images/s, environment")
    parser.add_argument("--dvclive", type=Path, metavar="DIR", help="also log with dvclive")
    parser.add_argument(
        "--progress",
        default="auto",
        choices=("auto", "bar", "plain", "none"),
        help="auto: a bar on a terminal, plain lines otherwise (as under DVC)",
    )
    parser.add_argument("--resume", type=Path, help="continue a run from a checkpoint it wrote")
    parser.add_argument(
        "--recipe-mode",
        choices=("own", "shared"),
        help="label stored with the run: the model's own recipe or the comparison's shared one",
    )
    for field in dataclasses.fields(EngineOptions):
        _add_field_flag(parser, field, f"{_ENGINE_HELP[field.name]} (default {field.default})")
    add_config_flags(parser)
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    import torch

    from irnext.evaluation import resolve_device
    from irnext.models.registry import create_model
    from irnext.training import HookList, TrainingDiverged, train
    from irnext.training.outputs import RunFiles
    from irnext.training.progress import MetricsNotWritten
    from irnext.training.resume import data_identity, resumed_run

    _check_outputs(args)
    overrides = _model_kwargs(args.model_kwargs)
    config, options = config_from_args(args), options_from_args(args)
    device = resolve_device(args.device)
    train_set, val_set = _datasets(args)
    training = {"config": config_dict(config), "dataset": args.dataset, "split": args.split}
    data = data_identity(train_set)
    training |= {"recipe": args.recipe, "recipe_mode": args.recipe_mode}
    torch.manual_seed(config.seed)
    if args.resume:
        model, resume = resumed_run(args.resume, training, data, args.model, overrides)
    else:
        model, resume = create_model(args.model, **overrides), None
    files = RunFiles(
        model,
        out=args.out,
        training=training,
        describe={"model": args.model, "model_kwargs": overrides},
        history=args.history,
        timing=args.timing,
        keep_best=val_set is not None,
        data=data,
    )
    main_rank = int(os.environ.get("RANK", "0")) == 0
    hooks = HookList(files, *_watchers(args, config, main_rank, resume))
    if main_rank:
        files.check()  # before the first step, not after hours of training
    run = {"val_set": val_set, "options": options, "resume": resume, "hooks": hooks}
    try:
        train(model, train_set, config, device=device, **run)
    except KeyboardInterrupt:  # Ctrl-C: one line saying where to resume, no traceback
        if main_rank:
            print(f"irnext train: interrupted; {_kept(files)}", file=sys.stderr, flush=True)
        return 130  # 128 + SIGINT, as a shell reports it
    except (TrainingDiverged, MetricsNotWritten) as error:
        raise InputError(f"{error}; {_kept(files)}") from error
    if main_rank:
        print(json.dumps(files.summary(device)), flush=True)
    return 0


def _kept(files) -> str:
    if files.last_good is None:
        return "no resumable checkpoint was written yet (see --save-every-steps)"
    return (
        f"the last good checkpoint, step {files.state['step']}, left as it was: "
        f"{files.last_good} (continue with --resume {files.last_good})"
    )


def _check_outputs(args: argparse.Namespace) -> None:
    """Every file this run writes is a different file, checked before any work."""
    from irnext.training.outputs import best_path, check_distinct

    check_distinct(
        {
            "--out": args.out,
            f"the best checkpoint beside --out ({best_path(args.out)})": (
                best_path(args.out) if args.val_split else None
            ),
            "--history": args.history,
            "--timing": args.timing,
            "--dvclive": args.dvclive,
        }
    )


def _watchers(args: argparse.Namespace, config: TrainConfig, main_rank: bool, resume) -> list:
    from irnext.training.progress import DvcLiveLog, progress_hooks

    if not main_rank:
        return []
    watchers = [progress_hooks(args.progress)]
    if args.dvclive:
        world = int(os.environ.get("WORLD_SIZE", "1"))
        step = None if resume is None else int(resume.get("step", 0))
        watchers.append(
            DvcLiveLog(args.dvclive, batch_images=config.batch_size * world, resume_step=step)
        )
    return watchers


def _model_kwargs(text: str) -> dict:
    problem = f"--model-kwargs: expected a JSON object, got {text!r}"
    try:
        overrides = json.loads(text)
    except json.JSONDecodeError as error:
        raise InputError(problem) from error
    if not isinstance(overrides, dict):
        raise InputError(problem)
    return overrides


def _datasets(args: argparse.Namespace):
    from irnext.data import dataset_info, open_dataset

    train_set = open_dataset(args.dataset, args.root, split=args.split)
    test_split = dataset_info(args.dataset).default_split
    if args.val_split == test_split and test_split != args.split:
        raise InputError(
            f"--val-split {args.val_split} is {args.dataset}'s test split: validating on it "
            "selects on the test set (the release's flaw); hold out part of the training data"
        )
    if args.val_every_steps and not args.val_split:
        raise InputError("--val-every-steps needs --val-split (the split to validate on)")
    val_set = (
        open_dataset(args.dataset, args.root, split=args.val_split) if args.val_split else None
    )
    return train_set, val_set


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    """The recipe named by --recipe with the values of the flags given on top of it."""
    given = {
        f.name: _config_value(args, f)
        for f in dataclasses.fields(TrainConfig)
        if getattr(args, f.name) is not None
    }
    # A recipe's global batch is kept over torchrun's processes (irnext.training.recipes).
    processes = int(os.environ.get("WORLD_SIZE", "1"))
    return dataclasses.replace(train_config(args.recipe, processes=processes), **given)


def options_from_args(args: argparse.Namespace) -> EngineOptions:
    """EngineOptions from the flags given (the defaults for the others)."""
    fields = dataclasses.fields(EngineOptions)
    given = {f.name: getattr(args, f.name) for f in fields if getattr(args, f.name) is not None}
    return EngineOptions(**given)


def _config_value(args: argparse.Namespace, field: dataclasses.Field):
    value = getattr(args, field.name)
    if field.name == "grad_clip" and not value:
        return None
    return tuple(value) if isinstance(field.default, tuple) else value
