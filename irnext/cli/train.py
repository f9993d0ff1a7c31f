"""`irnext train`: train a named model on a dataset split with the paper's recipe.

`--recipe` picks a named recipe (`irnext.training.RECIPES`; default the official ITS dehazing
one) and every field of `TrainConfig` is a flag (`--epochs`, `--batch-size`, ...) overriding it;
the checkpoint stores the recipe it was trained with.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

import torch

from irnext.checkpoint import save_checkpoint
from irnext.env import environment_stamp
from irnext.errors import InputError
from irnext.evaluation import resolve_device
from irnext.models.registry import create_model
from irnext.training import RECIPE_STATUS, RECIPES, TrainConfig, config_dict, recipe, train


def _parse_bool(text: str) -> bool:
    if text.lower() in ("1", "true", "yes"):
        return True
    if text.lower() in ("0", "false", "no"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")


def add_config_flags(parser: argparse.ArgumentParser) -> None:
    """--recipe NAME, then one flag per TrainConfig field overriding the recipe's value."""
    names = ", ".join(f"{name} ({status})" for name, status in RECIPE_STATUS.items())
    parser.add_argument(
        "--recipe", default="its", choices=list(RECIPES), help=f"base recipe: {names}"
    )
    for field in dataclasses.fields(TrainConfig):
        flag = "--" + field.name.replace("_", "-")
        default = field.default
        hint = f"default: the recipe's (its: {default})"
        if isinstance(default, bool):
            parser.add_argument(flag, type=_parse_bool, metavar="BOOL", help=hint)
        elif isinstance(default, tuple):
            parser.add_argument(flag, type=float, nargs=len(default), help=hint)
        elif field.name == "grad_clip":
            parser.add_argument(flag, type=float, help=hint + "; 0 disables clipping")
        else:
            parser.add_argument(flag, type=type(default), help=hint)


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("train", help="train a model with the paper's recipe")
    parser.add_argument("--model", required=True, help="named model (see `irnext models`)")
    parser.add_argument(
        "--model-kwargs", default="{}", help="JSON overrides, e.g. '{\"lam\": false}'"
    )
    parser.add_argument("--dataset", required=True, help="dataset name (see `irnext data list`)")
    parser.add_argument("--root", required=True, type=Path, help="the dataset's folder")
    parser.add_argument("--split", default="train")
    parser.add_argument("--val-split", help="split scored after each epoch (never the test split)")
    parser.add_argument("--device", default="auto", help="auto (cuda if present), cpu, cuda:0")
    parser.add_argument("--out", required=True, type=Path, help="checkpoint to write (.pt)")
    parser.add_argument("--history", type=Path, help="per-epoch JSON log to write")
    parser.add_argument(
        "--save-every",
        type=int,
        default=0,
        metavar="EPOCHS",
        help="also write --out (with the optimiser state) every EPOCHS epochs; 0: at the end",
    )
    parser.add_argument(
        "--resume",
        type=Path,
        help="continue a run from a checkpoint this command wrote (same recipe and dataset)",
    )
    add_config_flags(parser)
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from irnext.data import dataset_info, open_dataset

    problem = f"--model-kwargs: expected a JSON object, got {args.model_kwargs!r}"
    try:
        overrides = json.loads(args.model_kwargs)
    except json.JSONDecodeError as error:
        raise InputError(problem) from error
    if not isinstance(overrides, dict):
        raise InputError(problem)
    config = config_from_args(args)
    device = resolve_device(args.device)
    train_set = open_dataset(args.dataset, args.root, split=args.split)
    val_set = None
    test_split = dataset_info(args.dataset).default_split
    if args.val_split == test_split and test_split != args.split:
        raise InputError(
            f"--val-split {args.val_split} is {args.dataset}'s test split: validating on it "
            "selects on the test set (the release's flaw); hold out part of the training data"
        )
    if args.val_split:
        val_set = open_dataset(args.dataset, args.root, split=args.val_split)
    torch.manual_seed(config.seed)
    recipe = {"config": config_dict(config), "dataset": args.dataset, "split": args.split}
    if args.resume:
        model, resume = _resumed(args.resume, recipe, args.model)
    else:
        model, resume = create_model(args.model, **overrides), None
    if args.save_every < 0:
        raise InputError(f"--save-every {args.save_every}: expected >= 0 epochs")

    def log(record: dict) -> None:
        rounded = {k: round(v, 6) if isinstance(v, float) else v for k, v in record.items()}
        print(json.dumps(rounded), flush=True)

    last: dict = {"state": resume}

    def save(state: dict) -> None:
        last["state"] = state
        if args.save_every and state["epoch"] % args.save_every == 0:
            save_checkpoint(args.out, model, training=recipe, resume=state)

    history = train(
        model,
        train_set,
        config,
        device=device,
        val_set=val_set,
        log=log,
        resume=resume,
        on_epoch_end=save,
    )
    recipe["final_loss"] = history[-1]["loss"]
    save_checkpoint(args.out, model, training=recipe, resume=last["state"])
    if args.history:
        args.history.parent.mkdir(parents=True, exist_ok=True)
        payload = {
            "model": args.model,
            "model_kwargs": overrides,
            **recipe,
            "epochs": history,
            "environment": environment_stamp(device),
        }
        args.history.write_text(json.dumps(payload, indent=1) + "\n")
    return 0


def _resumed(path: Path, recipe: dict, name: str) -> tuple[torch.nn.Module, dict]:
    """The model and resume state of a checkpoint written with --save-every, checked to come
    from the same recipe and data: resuming under another schedule is not the same run."""
    from irnext.checkpoint import load_checkpoint

    model, info = load_checkpoint(path)
    if "resume" not in info:
        raise InputError(f"{path}: holds no resume state (write it with --save-every)")
    saved = info.get("training") or {}
    differs = sorted(key for key in ("dataset", "split") if saved.get(key) != recipe[key]) + sorted(
        f"config.{key}"
        for key, value in recipe["config"].items()
        if key != "num_workers" and saved.get("config", {}).get(key) != value
    )
    if info.get("model_name") != name:
        differs.insert(0, f"model ({info.get('model_name')})")
    if differs:
        raise InputError(f"{path}: was trained with different {', '.join(differs)}")
    return model.train(), info["resume"]


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    """The recipe named by --recipe with the values of the flags given on top of it."""
    given = {
        f.name: _config_value(args, f)
        for f in dataclasses.fields(TrainConfig)
        if getattr(args, f.name) is not None
    }
    return dataclasses.replace(recipe(args.recipe), **given)


def _config_value(args: argparse.Namespace, field: dataclasses.Field):
    value = getattr(args, field.name)
    if field.name == "grad_clip" and not value:
        return None
    return tuple(value) if isinstance(field.default, tuple) else value
