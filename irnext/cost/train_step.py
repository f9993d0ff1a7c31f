"""Latency of one training step: forward, the paper's loss, backward and the Adam update.

The official table (docs/protocols.md#latency) has a column for it: batch 4 at 256x256 in
fp32. A model returning several scales (IRNeXt) is trained with the paper's multi-scale
L1 + FFT-L1 loss; one returning a single image with L1 + FFT-L1 on it, so every model pays the
same loss.
"""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any

import torch
from torch import nn

from irnext.cost.latency import time_callable
from irnext.env import environment_stamp
from irnext.losses import multiscale_loss
from irnext.precisions import check_precision


def measure_train_step(
    model: nn.Module,
    *,
    batch: int = 4,
    size: tuple[int, int] = (256, 256),
    device: torch.device | str = "cpu",
    dtype: str = "fp32",
    warmup: int = 5,
    runs: int = 20,
) -> dict[str, Any]:
    """Latency record of a full optimiser step on random batch x 3 x H x W pairs.

    The model's weights change (it is trained on noise): pass a copy if it is needed after.
    dtype "bf16" runs the forward and loss under bf16 autocast, weights and Adam in fp32.
    """
    check_precision(dtype)
    device = torch.device(device)
    model = model.to(device).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
    degraded = torch.rand(batch, 3, *size, device=device)
    target = torch.rand(batch, 3, *size, device=device)
    autocast = (
        torch.autocast(device.type, dtype=torch.bfloat16) if dtype == "bf16" else nullcontext()
    )

    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        with autocast:
            out = model(degraded)
            scales = [out] if isinstance(out, torch.Tensor) else list(out)
            loss = multiscale_loss([s.float() for s in scales], target)
        loss.backward()
        optimizer.step()

    record = {
        "input_shape": [batch, 3, *size],
        "batch": batch,
        "device": str(device),
        "precision": dtype,
        "what": "train step: forward, L1 + 0.1 FFT-L1 on every output scale, backward, Adam",
        "threads": torch.get_num_threads(),
        **time_callable(step, device=device, warmup=warmup, runs=runs),
    }
    record["environment"] = {**environment_stamp(device), "precision": dtype}
    return record
