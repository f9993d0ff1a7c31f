"""What a resumable checkpoint holds besides the weights: every random generator's state and
the position in the run, as plain data (`torch.load(weights_only=True)` reads it back).

Our batches never draw from a global generator (see `irnext.data.transforms`), so the data
position (epoch, batch within the epoch) alone fixes the rest of the run's data; the global
generators are saved too, for models or user transforms that do draw from them.
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import torch


def seed_everything(seed: int) -> None:
    """Python's, numpy's and torch's global generators (CPU and every CUDA device)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)  # noqa: NPY002 (the legacy global is what user code draws on)
    torch.manual_seed(seed)


def capture_rng() -> dict[str, Any]:
    """Every global generator's state, as tensors, ints, lists and strings."""
    version, internal, gauss = random.getstate()
    kind, keys, position, has_gauss, cached = np.random.get_state()  # noqa: NPY002
    state: dict[str, Any] = {
        "python": [version, list(internal), gauss],
        "numpy": [kind, torch.from_numpy(keys.astype(np.int64)), position, has_gauss, cached],
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng(state: dict[str, Any]) -> None:
    """Set the global generators to a `capture_rng()` result."""
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    kind, keys, position, has_gauss, cached = state["numpy"]
    np.random.set_state(  # noqa: NPY002
        (kind, keys.numpy().astype(np.uint32), position, has_gauss, cached)
    )
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def new_position() -> dict[str, Any]:
    """The state of a run that has not started: epoch and batch are 0-based counters."""
    return {
        "epoch": 0,  # epochs completed
        "batch": 0,  # batches done in the current epoch (all its passes counted)
        "step": 0,  # optimiser steps done
        "loss_sum": 0.0,  # sum of this epoch's step losses so far
        "history": [],  # one record per completed epoch
        "validations": [],
        "best": None,  # {"step", "epoch", "val_psnr_db", "val_ssim"} of the best validation
    }
