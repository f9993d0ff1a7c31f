"""The files a training run writes: the last checkpoint (`--out`, resumable), the best by
validation PSNR beside it (`<stem>.best<suffix>`), the history JSON and the timing JSON.

The history holds deterministic values only (config, losses, learning rates, steps, validation
scores, the weights' hash), so the same seed on the same machine rewrites it byte for byte;
wall-clock seconds, images/s and the environment stamp go to the separate timing file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from irnext.checkpoint import save_checkpoint, weights_sha256
from irnext.env import environment_stamp
from irnext.errors import InputError
from irnext.evaluation import json_safe
from irnext.io import atomic_write_json, check_writable
from irnext.training.hooks import Hooks


def best_path(out: Path) -> Path:
    return out.with_name(f"{out.stem}.best{out.suffix}")


def check_distinct(outputs: dict[str, Path | None]) -> None:
    """One command's outputs (flag -> path) are different files: two on one path would leave
    only the last written (a checkpoint replaced by a JSON log)."""
    seen: dict[Path, str] = {}
    for flag, path in outputs.items():
        if path is None:
            continue
        resolved = Path(path).resolve()
        if resolved in seen:
            raise InputError(
                f"{seen[resolved]} and {flag} both name {path}: each output of a command "
                "must be a different file"
            )
        seen[resolved] = flag


class RunFiles(Hooks):
    """Writes checkpoints when the engine offers them and the JSON files at the end.

    `training` (recipe, dataset, split) is stored with every checkpoint and, with `describe`
    (model name and keywords), at the top of the history."""

    def __init__(
        self,
        model: torch.nn.Module,
        *,
        out: Path,
        training: dict[str, Any],
        describe: dict[str, Any],
        history: Path | None = None,
        timing: Path | None = None,
        keep_best: bool = False,
        data: dict[str, Any] | None = None,
    ) -> None:
        self.model, self.out = model, Path(out)
        self.data = data  # the training data's identity, checked on --resume (resume.py)
        self.training, self.describe = training, describe
        self.history, self.timing = history, timing
        self.best = best_path(self.out) if keep_best else None
        self.last_good: Path | None = None  # the newest resumable checkpoint written
        self.state: dict[str, Any] | None = None
        self.timings: list[dict[str, Any]] = []

    def check(self) -> None:
        """Fail before the first step if any output cannot be written."""
        for path in (self.out, self.best, self.history, self.timing):
            if path is not None:
                check_writable(path)

    def save(self, state: dict[str, Any], reason: str) -> None:
        path = self.best if reason == "best" else self.out
        if path is None:
            return
        training = {**self.training, "step": state["step"]}
        if state["history"]:
            training["final_loss"] = state["history"][-1]["loss"]
        resume = state if self.data is None else {**state, "data": self.data}
        save_checkpoint(path, self.model, training=training, resume=resume)
        if reason != "best":
            self.last_good, self.state = path, state

    def epoch(self, record: dict[str, Any], seconds: float, images: int) -> None:
        rate = images / seconds if seconds > 0 else None
        self.timings.append({"epoch": record["epoch"], "seconds": seconds, "images_per_s": rate})

    def summary(self, device: torch.device) -> dict[str, Any]:
        """Write the history and timing files; returns the one-line summary of the run."""
        state = self.state or {"history": [], "validations": [], "best": None, "step": 0}
        sha = weights_sha256(self.model.state_dict())
        final = state["history"][-1]["loss"] if state["history"] else None
        if self.history is not None:
            payload = {
                **self.describe,
                **self.training,
                "steps": state["step"],
                "final_loss": final,
                "weights_sha256": sha,
                "epochs": state["history"],
                "validations": state["validations"],
                "best": state["best"],
            }
            atomic_write_json(self.history, json_safe(payload), indent=1)  # inf dB -> null
        if self.timing is not None:
            timing = {"epochs": self.timings, "environment": environment_stamp(device)}
            atomic_write_json(self.timing, json_safe(timing), indent=1)
        best = state["best"]
        return json_safe(
            {
                "out": str(self.out),
                "best": str(self.best) if self.best and best else None,
                "best_val_psnr_db": best["val_psnr_db"] if best else None,
                "steps": state["step"],
                "final_loss": final,
                "weights_sha256": sha,
            }
        )
