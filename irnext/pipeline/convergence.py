"""The convergence part of a pipeline cell: validation during training, and its records.

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

from irnext.errors import InputError
from irnext.pipeline.profile import section
from irnext.pipeline.profile_schema import VAL_KEY

VAL_SPLIT = "val"  # the split `irnext data synth --val-count` writes


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


def record_cell(cell, paths: dict[str, Path]) -> None:
    """After a cell's training: its convergence record, written by every profile (one that
    does not validate records no validations, and its verdicts read `unknown`)."""
    from irnext.pipeline.cell import resolve_model
    from irnext.training.outputs import best_path

    # The best-by-validation checkpoint `irnext train` wrote is never compared (the last is),
    # and is no declared output of the stage: it is not left behind.
    best_path(paths["checkpoint"]).unlink(missing_ok=True)
    write_convergence(
        history=paths["history"],
        out=paths["convergence"],
        task=cell.task,
        model=cell.model,
        seed=cell.seed,
        resolved=resolve_model(cell.model, cell.task),
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


def write_curve(history: Path, curve: Path) -> None:
    """The validation PSNR by step of a training history, as a DVC plot (a list of records;
    empty for a profile that does not validate). Not the training loss: IRNeXt's sums three
    output scales, the baselines' is one, so `dvc plots show` would set unlike values side by
    side."""
    from irnext.io import atomic_write_json

    checks = json.loads(history.read_text()).get("validations") or []
    points = [{"step": v["step"], "val_psnr_db": v["val_psnr_db"]} for v in checks]
    atomic_write_json(curve, points, indent=1)
