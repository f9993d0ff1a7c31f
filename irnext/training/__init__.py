"""Training with the paper's recipe, GPU first (see docs/training.md).

`TrainConfig` is the recipe, `EngineOptions` how the run executes, `train` the loop
(single-process, or DistributedDataParallel under torchrun) and `Hooks` what it reports.
"""

from __future__ import annotations

from irnext._lazy import lazy_getattr

# The recipe is light (no torch): `irnext train --help` builds its flags from it at once.
from irnext.training.config import (
    RECIPE_STATUS,
    RECIPES,
    EngineOptions,
    TrainConfig,
    config_dict,
    lr_factor,
    recipe,
)

# The engine's names are imported on first use (PEP 562): they import torch.
_LAZY = {
    "train": "irnext.training.engine",
    "HookList": "irnext.training.hooks",
    "Hooks": "irnext.training.hooks",
    "TrainingDiverged": "irnext.training.loop",
    "train_step": "irnext.training.loop",
    "validate": "irnext.training.loop",
}

__all__ = [
    "RECIPES",
    "RECIPE_STATUS",
    "EngineOptions",
    "HookList",
    "Hooks",
    "TrainConfig",
    "TrainingDiverged",
    "config_dict",
    "lr_factor",
    "recipe",
    "train",
    "train_step",
    "validate",
]


__getattr__ = lazy_getattr(__name__, _LAZY)
