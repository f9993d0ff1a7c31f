"""Progressive training and cyclic cosine restarts, both counted in optimiser steps.

Restormer trains in stages of growing crops and shrinking batches (`progressive`:
(steps, patch_size, batch_size) per stage) under BasicSR's `CosineAnnealingRestartCyclicLR`
(`restart_periods`, `restart_weights`, `restart_eta_mins`). Both are functions of the step
alone, and every epoch lies within one stage, so a run resumed from any step checkpoint
(mid-stage or at a boundary) continues on the batches and rates of the uninterrupted run.
"""

from __future__ import annotations

import bisect
import dataclasses
import math
from itertools import accumulate
from typing import Any

from irnext.errors import InputError


def stages(config: Any) -> list[tuple[int, int, int]]:
    """(steps, patch_size, batch_size) of each stage; one stage where none are given."""
    return [tuple(s) for s in config.progressive] or [
        (config.iterations, config.patch_size, config.batch_size)
    ]


def stage_config(config: Any, index: int) -> Any:
    """The config that stage `index` trains with: its patch and batch size, as one stage (the
    config itself when it has no stages)."""
    if not config.progressive:
        return config
    _, patch_size, batch_size = stages(config)[index]
    return dataclasses.replace(config, patch_size=patch_size, batch_size=batch_size, progressive=())


def stage_at(step: int, config: Any) -> int:
    """The stage (0-based) of optimiser step `step` (1-based): Restormer's train.py picks
    the first stage whose cumulative end is >= the step."""
    ends = list(accumulate(s[0] for s in stages(config)))
    return min(bisect.bisect_left(ends, step), len(ends) - 1)


def epoch_plan(config: Any, passes: list[int]) -> list[tuple[int, int]]:
    """(stage, steps) of each epoch: full passes of the stage's loader (`passes[k]` batches
    each), the stage's last epoch cut at its step count so no epoch spans two stages."""
    if not config.iterations:
        return [(0, passes[0])] * config.epochs
    plan: list[tuple[int, int]] = []
    for index, (steps, _, _) in enumerate(stages(config)):
        full, rest = divmod(steps, passes[index])
        plan += [(index, passes[index])] * full + ([(index, rest)] if rest else [])
    return plan


def restart_factor(step: int, config: Any) -> float:
    """Multiplier of config.lr at step `step` (1-based) under cyclic cosine restarts: in the
    period holding the step (it ends at a cumulative period >= step), eta_min + weight
    (lr - eta_min) (1 + cos(pi t / period)) / 2, t the steps since the period began
    (BasicSR's `CosineAnnealingRestartCyclicLR`, stepped before each update as there)."""
    ends = list(accumulate(config.restart_periods))
    index = min(bisect.bisect_left(ends, step), len(ends) - 1)
    begun = ends[index - 1] if index else 0
    period, weight = config.restart_periods[index], config.restart_weights[index]
    floor = config.restart_eta_mins[index]
    cosine = 0.5 * (1 + math.cos(math.pi * (step - begun) / period))
    return (floor + weight * (config.lr - floor) * cosine) / config.lr


def check_stages(config: Any) -> None:
    """Stages and restart periods each add up to `iterations`, with sensible values."""
    if config.progressive:
        _check_progressive(config)
    periods = config.restart_periods
    if not (periods or config.restart_weights or config.restart_eta_mins):
        return
    lengths = {len(periods), len(config.restart_weights), len(config.restart_eta_mins)}
    if len(lengths) != 1 or sum(periods) != config.iterations or min(periods) < 1:
        raise InputError(
            f"restart_periods {list(periods)}, restart_weights {list(config.restart_weights)} "
            f"and restart_eta_mins {list(config.restart_eta_mins)}: expected one weight and "
            f"one eta_min per period, periods >= 1 adding up to iterations {config.iterations}"
        )
    values = (*config.restart_weights, *config.restart_eta_mins)
    if not all(math.isfinite(v) and v >= 0 for v in values):
        raise InputError(f"restart weights and eta_mins must be finite and >= 0, got {values}")


def _check_progressive(config: Any) -> None:
    stages_ = config.progressive
    shaped = all(len(s) == 3 and all(isinstance(v, int) for v in s) for s in stages_)
    if not shaped or sum(s[0] for s in stages_) != config.iterations:
        raise InputError(
            f"progressive {[list(s) for s in stages_]}: expected [steps, patch_size, "
            f"batch_size] stages of integers whose steps add up to iterations "
            f"{config.iterations} (> 0)"
        )
    first = (config.patch_size, config.batch_size)
    if any(v < 1 for s in stages_ for v in s) or tuple(stages_[0][1:]) != first:
        raise InputError(
            f"progressive {[list(s) for s in stages_]}: steps and sizes must be >= 1 and the "
            f"first stage's patch_size, batch_size must be the config's {list(first)}"
        )
