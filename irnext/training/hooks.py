"""What a training run reports, as methods a caller overrides (all no-ops here).

The engine calls them on rank 0 only, never inside a step's computation: `step` after every
step (no device sync), `metrics` each time the loss is read (every `log_every` steps), `epoch`
after each epoch, `validation` after each validation, and `save` whenever a checkpoint is due,
with the full resume state and the reason: "step", "epoch", "best" or "last".
"""

from __future__ import annotations

from typing import Any


class Hooks:
    def step(self, step: int, total: int) -> None:
        """After optimiser step `step` (1-based) of `total`."""

    def metrics(self, step: int, values: dict[str, float]) -> None:
        """The mean loss since the last read, the learning rate and the epoch (1-based)."""

    def epoch(self, record: dict[str, Any], seconds: float, images: int) -> None:
        """A finished epoch's record; `seconds` and `images` are this session's part of it."""

    def validation(self, record: dict[str, Any]) -> None:
        """{"step", "epoch", "batch", "val_psnr_db", "val_ssim"} of one validation."""

    def save(self, state: dict[str, Any], reason: str) -> None:
        """A checkpoint is due: `state` is what `train(resume=...)` continues from."""

    def close(self) -> None:
        """The run ended (normally or not)."""


class HookList(Hooks):
    """Several hooks called in order."""

    def __init__(self, *hooks: Hooks) -> None:
        self.hooks = hooks

    def step(self, step: int, total: int) -> None:
        for hook in self.hooks:
            hook.step(step, total)

    def metrics(self, step: int, values: dict[str, float]) -> None:
        for hook in self.hooks:
            hook.metrics(step, values)

    def epoch(self, record: dict[str, Any], seconds: float, images: int) -> None:
        for hook in self.hooks:
            hook.epoch(record, seconds, images)

    def validation(self, record: dict[str, Any]) -> None:
        for hook in self.hooks:
            hook.validation(record)

    def save(self, state: dict[str, Any], reason: str) -> None:
        for hook in self.hooks:
            hook.save(state, reason)

    def close(self) -> None:
        for hook in self.hooks:
            hook.close()
