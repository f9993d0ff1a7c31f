"""Latency and peak memory of a forward pass, measured so that the numbers can be trusted.

GPU: CUDA events around each run after a warm-up, with the device synchronised, so that a timing
is the kernels' time and not the launch queue's (deblurring papers often omit the synchronisation,
PROTOCOLS.md section 3); peak memory from `torch.cuda.max_memory_allocated`. CPU: `perf_counter`
with the intra-op thread count recorded; peak memory is not measurable per call on CPU
(tracemalloc does not see torch's allocator), so the record gives the process's peak RSS instead
and says so. Every record carries the environment stamp and the precision.
"""

from __future__ import annotations

import resource
import sys
import time
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from typing import Any

import numpy as np
import torch
from torch import nn

from irnext.env import environment_stamp
from irnext.errors import InputError

PRECISIONS = {"fp32": torch.float32, "bf16": torch.bfloat16}


def time_callable(
    fn: Callable[[], Any], *, device: torch.device | str, warmup: int, runs: int
) -> dict[str, Any]:
    """Time `fn()` `runs` times after `warmup` calls; milliseconds per call and peak memory."""
    device = torch.device(device)
    if runs < 1 or warmup < 0:
        raise InputError(f"runs={runs}, warmup={warmup}: need runs >= 1 and warmup >= 0")
    cuda = device.type == "cuda"
    start = time.perf_counter()
    for _ in range(warmup):
        fn()
    if cuda:
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
    warmup_s = time.perf_counter() - start
    times_ms = [_time_once(fn, cuda=cuda) for _ in range(runs)]
    q10, q25, q50, q75, q90 = np.percentile(times_ms, [10, 25, 50, 75, 90])
    return {
        "latency_ms_median": float(q50),
        "latency_ms_iqr": float(q75 - q25),
        "latency_ms_p10": float(q10),
        "latency_ms_p90": float(q90),
        "latency_ms_mean": float(np.mean(times_ms)),
        "runs": runs,
        "warmup": warmup,
        "warmup_s": warmup_s,  # includes compilation for compiled models
        "peak_memory_mib": torch.cuda.max_memory_allocated(device) / 2**20 if cuda else None,
        "process_peak_rss_mib": _peak_rss_mib(),
    }


def _time_once(fn: Callable[[], Any], *, cuda: bool) -> float:
    if cuda:
        begin, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        begin.record()
        fn()
        end.record()
        end.synchronize()
        return begin.elapsed_time(end)
    begin_s = time.perf_counter()
    fn()
    return (time.perf_counter() - begin_s) * 1e3


def _peak_rss_mib() -> float:
    # ru_maxrss is KiB on Linux and bytes on macOS; it is the whole process's high-water mark.
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (2**20 if sys.platform == "darwin" else 2**10)


def measure_latency(
    model: nn.Module,
    input_shape: Sequence[int],
    *,
    device: torch.device | str = "cpu",
    dtype: str = "fp32",
    compile: bool | str = False,
    channels_last: bool = False,
    warmup: int = 10,
    runs: int = 50,
    batch: int | None = None,
) -> dict[str, Any]:
    """Latency record of `model` on a random input of `input_shape` (N, C, H, W).

    dtype: "fp32", or "bf16" under autocast (how the official timings were taken).
    compile: False, True (torch.compile default mode) or a torch.compile mode name.
    batch: replaces N of input_shape. The model is moved to `device` and put in eval mode.
    """
    if dtype not in PRECISIONS:
        raise InputError(f"dtype '{dtype}' is not one of {', '.join(PRECISIONS)}")
    shape = (batch or input_shape[0], *input_shape[1:])
    device = torch.device(device)
    model = model.eval().to(device)
    x = torch.rand(*shape, device=device)
    if channels_last:
        model, x = (
            model.to(memory_format=torch.channels_last),
            x.to(memory_format=torch.channels_last),
        )
    if compile:
        model = torch.compile(model, mode=None if compile is True else compile)
    autocast = (
        torch.autocast(device.type, dtype=torch.bfloat16) if dtype == "bf16" else nullcontext()
    )

    def forward() -> Any:
        with torch.no_grad(), autocast:
            return model(x)

    record = {
        "input_shape": list(shape),
        "batch": shape[0],
        "device": str(device),
        "precision": dtype,
        "compiled": compile if isinstance(compile, str) else bool(compile),
        "channels_last": channels_last,
        "threads": torch.get_num_threads(),
        **time_callable(forward, device=device, warmup=warmup, runs=runs),
    }
    record["throughput_images_per_s"] = 1e3 * shape[0] / record["latency_ms_median"]
    record["environment"] = {**environment_stamp(device), "precision": dtype}
    return record
