"""Data-parallel training under torchrun: one process per device, gradients averaged by
DistributedDataParallel, IRNeXt's BatchNorm statistics taken over the global batch.

torchrun sets WORLD_SIZE, RANK, LOCAL_RANK (and LOCAL_WORLD_SIZE); without them, or with a
world of one, training is the single-process loop and nothing here is used.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn


@dataclass(frozen=True)
class World:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def active(self) -> bool:
        return self.world_size > 1

    def barrier(self) -> None:
        if self.active:
            dist.barrier()

    def mean(self, values: torch.Tensor) -> torch.Tensor:
        """The mean over ranks of `values` (the same on every rank afterwards)."""
        if self.active:
            values = values.clone()
            dist.all_reduce(values)
            values /= self.world_size
        return values


def launched_processes() -> int:
    """How many processes torchrun started (WORLD_SIZE; 1 outside torchrun)."""
    return int(os.environ.get("WORLD_SIZE", "1"))


def join_world(device: torch.device) -> tuple[World, torch.device]:
    """The process group torchrun describes (nccl on CUDA, gloo on CPU) and this rank's device
    (cuda:LOCAL_RANK when `device` is CUDA)."""
    world = World(
        rank=int(os.environ.get("RANK", "0")),
        world_size=launched_processes(),
        local_rank=int(os.environ.get("LOCAL_RANK", "0")),
    )
    if not world.active:
        return world, device
    if device.type == "cuda":
        device = torch.device("cuda", world.local_rank)
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return world, device


def leave_world(world: World) -> None:
    if world.active and dist.is_initialized():
        dist.destroy_process_group()


class _SumOverRanks(torch.autograd.Function):
    """All-reduce (sum) whose gradient is the all-reduced gradient: every rank's loss depends
    on every rank's input through the summed statistics."""

    @staticmethod
    def forward(ctx, tensor: torch.Tensor) -> torch.Tensor:
        total = tensor.clone()
        dist.all_reduce(total)
        return total

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        total = grad.clone()
        dist.all_reduce(total)
        return total


class GlobalBatchNorm2d(nn.BatchNorm2d):
    """BatchNorm2d whose training statistics are those of the batch summed over all ranks.

    NOTE: the same statistics as nn.SyncBatchNorm (biased variance to normalise, unbiased for
    the running variance), written with a differentiable all-reduce because SyncBatchNorm runs
    on GPUs only: one implementation for gloo on CPU and nccl on CUDA, tested on CPU.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not (self.training and dist.is_initialized() and dist.get_world_size() > 1):
            return super().forward(x)
        channels, values = x.shape[1], x.float()
        dims = [0, 2, 3]
        count = x.new_full((1,), x.numel() // channels, dtype=torch.float32)
        totals = torch.cat([values.sum(dims), (values * values).sum(dims), count])
        totals = _SumOverRanks.apply(totals)
        n = totals[-1]
        mean = totals[:channels] / n
        var = (totals[channels : 2 * channels] / n - mean * mean).clamp_min(0)
        self._track(mean.detach(), var.detach() * n.detach() / (n.detach() - 1).clamp_min(1))
        shape = (1, channels, 1, 1)
        out = (values - mean.view(shape)) * torch.rsqrt(var.view(shape) + self.eps)
        if self.affine:
            out = out * self.weight.view(shape) + self.bias.view(shape)
        return out.to(x.dtype)

    @torch.no_grad()
    def _track(self, mean: torch.Tensor, unbiased_var: torch.Tensor) -> None:
        if not self.track_running_stats:
            return
        self.num_batches_tracked += 1
        momentum = self.momentum
        if momentum is None:  # a cumulative average, as nn.BatchNorm2d
            momentum = 1.0 / float(self.num_batches_tracked)
        self.running_mean.lerp_(mean.to(self.running_mean.dtype), momentum)
        self.running_var.lerp_(unbiased_var.to(self.running_var.dtype), momentum)


def share_batch_statistics(model: nn.Module, *, on: bool) -> nn.Module:
    """Swap every BatchNorm2d of `model` to GlobalBatchNorm2d (on) or back (off), in place:
    the parameters, buffers and state-dict keys stay as they are."""
    source, target = (nn.BatchNorm2d, GlobalBatchNorm2d) if on else (GlobalBatchNorm2d, None)
    for module in model.modules():
        if type(module) is source:
            module.__class__ = target or nn.BatchNorm2d
    return model


def wrap(model: nn.Module, world: World, device: torch.device) -> nn.Module:
    """The module a training step calls: DDP over `model` when the world has several ranks."""
    if not world.active:
        return model
    share_batch_statistics(model, on=True)
    ids = [device.index] if device.type == "cuda" else None
    return nn.parallel.DistributedDataParallel(model, device_ids=ids)


__all__ = ["GlobalBatchNorm2d", "World", "join_world", "leave_world", "wrap"]
