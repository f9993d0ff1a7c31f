"""Training with the paper's recipe, GPU first (see docs/training.md).

`TrainConfig` is the recipe, `EngineOptions` how the run executes, `train` the loop
(single-process, or DistributedDataParallel under torchrun) and `Hooks` what it reports.
"""

from irnext.training.config import (
    RECIPE_STATUS,
    RECIPES,
    EngineOptions,
    TrainConfig,
    config_dict,
    lr_factor,
    recipe,
)
from irnext.training.engine import train
from irnext.training.hooks import HookList, Hooks
from irnext.training.loop import TrainingDiverged, train_step, validate

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
