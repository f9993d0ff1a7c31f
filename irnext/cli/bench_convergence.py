"""The convergence part of a pipeline cell: validation during training, and the record of it.

`irnext bench cell` validates every model on the synthetic benchmark's `val` split (crops of
the training photographs, never a test scene) every `train.val_every_steps` steps, and after
training writes results/convergence/<task>/<model>-s<seed>.json: the validation curve and the
training MACs per step (irnext.cost.training_compute), which the report plots against steps
and compute and judges with the plateau criterion (irnext.report.convergence). The compared
checkpoint stays the last one (--out), not the best by validation: picking the best would
select on the validation curve, and every model is compared after the same budget.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from irnext.cli.params import section
from irnext.errors import InputError

VAL_SPLIT = "val"  # the split `irnext data synth --val-count` writes
VAL_KEY = "val_every_steps"  # in params `train`: an engine option, not a recipe field


def validation_flags(params: dict[str, Any]) -> list[str]:
    """`--val-split val --val-every-steps K` of a cell, [] when the profile sets no K."""
    every = dict(section(params, "train")).get(VAL_KEY)
    if not every:
        return []
    if section(params, "benchmark") != "synthetic":
        raise InputError(
            f"params.yaml: train.{VAL_KEY} = {every}, but benchmark "
            f"{section(params, 'benchmark')!r} has no validation split (the paper's training "
            "sets publish none; docs/training.md); remove the key"
        )
    if not section(params, "synth", "val_count"):
        raise InputError(
            f"params.yaml: train.{VAL_KEY} = {every} but synth.val_count = 0: the cells "
            "validate on the val split it builds; set synth.val_count >= 1 or remove the key"
        )
    return ["--val-split", VAL_SPLIT, "--val-every-steps", str(every)]


def record_cell(args, paths: dict[str, Path]) -> None:
    """After a cell's training: its convergence record, written by every profile (one that
    does not validate records no validations, and its verdicts read `unknown`)."""
    from irnext.cli.bench import resolve_model
    from irnext.training.outputs import best_path

    # The best-by-validation checkpoint `irnext train` wrote is never compared (the last is),
    # and is no declared output of the stage: it is not left behind.
    best_path(paths["checkpoint"]).unlink(missing_ok=True)
    write_convergence(
        history=paths["history"],
        out=paths["convergence"],
        task=args.task,
        model=args.model,
        seed=args.seed,
        resolved=resolve_model(args.model, args.task),
    )


def write_convergence(
    *, history: Path, out: Path, task: str, model: str, seed: int, resolved: str
) -> dict[str, Any]:
    """The cell's convergence record from its training history; `resolved` is the registry
    model trained for the profile's name `model` (the model built to count its MACs)."""
    from irnext.cost.training_compute import training_macs_per_step
    from irnext.io import atomic_write_json
    from irnext.models.registry import create_model

    record = json.loads(history.read_text())
    config = record.get("config") or {}
    macs = training_macs_per_step(
        create_model(resolved, **(record.get("model_kwargs") or {})),
        batch_size=int(config["batch_size"]),
        patch_size=int(config["patch_size"]),
    )
    result = convergence_record(record, task=task, model=resolved, seed=seed, macs_per_step=macs)
    result["profile_model"] = model  # e.g. `irnext`, the task's IRNeXt
    atomic_write_json(out, result, indent=1)
    return result


def convergence_record(
    history: dict[str, Any], *, task: str, model: str, seed: int, macs_per_step: dict[str, Any]
) -> dict[str, Any]:
    """A run's validation curve and training compute, from its training history (the JSON
    `irnext train --history` writes) and its per-step training MACs."""
    checks = [v for v in history.get("validations") or [] if "val_psnr_db" in v]
    config = history.get("config") or {}
    return {
        "task": task,
        "model": model,
        "seed": seed,
        "steps": history["steps"],
        "batch_size": config.get("batch_size"),
        "patch_size": config.get("patch_size"),
        **macs_per_step,
        "validations": [
            {"step": v["step"], "val_psnr_db": v["val_psnr_db"], "val_ssim": v.get("val_ssim")}
            for v in checks
        ],
    }
