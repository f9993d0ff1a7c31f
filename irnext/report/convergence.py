"""Whether a trained model had converged: validation curves and the plateau criterion.

A ranking of models that were still improving when their budget ran out says which learns
faster at that budget, not which architecture is better. Each training run validates on its
task's validation split (other crops of the training photographs) at regular steps; a model
of a task has *plateaued* when the seed-mean validation PSNR gained less than `GAIN_DB` over the
last `FRACTION` of its budget (from its last point at or before 75 % of the final step to the
final point). Fewer than two such points: not measured.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

GAIN_DB = 0.1
FRACTION = 0.25
TRAINING_PASSES = 3  # training MACs per image: forward + backward (~2 x forward), Kaplan 2020


@dataclass(frozen=True)
class Plateau:
    """The criterion's verdict on one curve; `plateaued` None when it could not be measured."""

    plateaued: bool | None
    gain_db: float | None = None
    from_step: int | None = None
    to_step: int | None = None

    @property
    def verdict(self) -> str:
        if self.plateaued is None:
            return "not measured"
        state = "plateaued" if self.plateaued else "still improving"
        return f"{state} ({self.gain_db:+.2f} dB over steps {self.from_step}-{self.to_step})"


def plateau(
    steps: Sequence[int],
    psnr_db: Sequence[float],
    *,
    fraction: float = FRACTION,
    gain_db: float = GAIN_DB,
) -> Plateau:
    """The plateau criterion (module docstring) on one validation curve."""
    if len(steps) != len(psnr_db):
        raise ValueError(f"{len(steps)} steps for {len(psnr_db)} PSNR values")
    points = sorted(zip(steps, psnr_db))
    if len(points) < 2:
        return Plateau(None)
    final_step, final = points[-1]
    start = (1 - fraction) * final_step
    before = [(s, v) for s, v in points[:-1] if s <= start]
    if not before:
        return Plateau(None)
    from_step, value = before[-1]
    gain = float(final - value)
    return Plateau(gain < gain_db, gain, int(from_step), int(final_step))


def validation_curve(history: dict[str, Any]) -> tuple[list[int], list[float]]:
    """(steps, validation PSNR) of one training history."""
    checks = [v for v in history.get("validations") or [] if v.get("val_psnr_db") is not None]
    return [int(v["step"]) for v in checks], [float(v["val_psnr_db"]) for v in checks]


def seed_mean_curve(histories: Sequence[dict[str, Any]]) -> tuple[list[int], list[float]]:
    """The validation PSNR averaged over seeds at the steps every seed validated."""
    curves = [dict(zip(*validation_curve(h["history"]))) for h in histories]
    common = sorted(set.intersection(*(set(c) for c in curves))) if curves else []
    return common, [float(np.mean([c[s] for c in curves])) for s in common]


def verdicts(histories: Sequence[dict[str, Any]]) -> dict[tuple[str, str], Plateau]:
    """{(task, model): Plateau} of the seed-mean validation curve of every trained model."""
    cells = sorted({(h["task"], h["model"]) for h in histories})
    found = {}
    for task, model in cells:
        runs = [h for h in histories if (h["task"], h["model"]) == (task, model)]
        found[(task, model)] = plateau(*seed_mean_curve(runs))
    return found


def training_gmacs_per_step(history: dict[str, Any], forward_gmacs_256: float) -> float | None:
    """MACs (G) one optimiser step spends: forward MACs at 256 x 256 scaled to the crop's area,
    times the batch, times `TRAINING_PASSES`."""
    config = history.get("config") or {}
    patch, batch = config.get("patch_size"), config.get("batch_size")
    if not patch or not batch:
        return None
    return forward_gmacs_256 * (patch / 256) ** 2 * batch * TRAINING_PASSES
