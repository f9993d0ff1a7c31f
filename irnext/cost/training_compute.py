"""Compute spent per training step, for plotting validation PSNR against training compute.

Convention: the forward MACs of one training batch (batch x 3 x patch x patch, counted by the
dispatch-level torch counter of `irnext.cost.counters`) times 3, taking the backward pass as
twice the forward (gradients with respect to activations and to weights, one forward's worth
each), as in Kaplan et al. 2020, "Scaling Laws for Neural Language Models", section 2.1
(C ~ 6N per token = 2N forward + 4N backward FLOPs). The loss, the optimiser update and data
loading are not counted; they are small beside the network for these models and the same
for every model of a comparison.
"""

from __future__ import annotations

from typing import Any

from torch import nn

from irnext.cost.counters import count_macs
from irnext.errors import InputError

BACKWARD_FACTOR = 3  # forward + backward = 3 x forward (Kaplan et al. 2020, sec. 2.1)
CONVENTION = (
    "forward MACs (torch counter) of one batch x 3 x patch x patch training batch, x3 for "
    "forward + backward (Kaplan et al. 2020, sec. 2.1); loss, optimiser and data not counted"
)


def training_macs_per_step(model: nn.Module, *, batch_size: int, patch_size: int) -> dict[str, Any]:
    """{forward_macs, train_macs_per_step, macs_convention} of one optimiser step."""
    if batch_size < 1 or patch_size < 1:
        raise InputError(
            f"batch_size={batch_size}, patch_size={patch_size}: expected positive integers"
        )
    shape = (batch_size, 3, patch_size, patch_size)
    forward = int(count_macs(model, shape, counters=("torch",))["macs_torch"])
    return {
        "forward_macs": forward,
        "train_macs_per_step": BACKWARD_FACTOR * forward,
        "macs_convention": CONVENTION,
    }
