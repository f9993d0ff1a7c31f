"""Latency and peak memory of a forward pass, measured so that the numbers can be trusted.

GPU: CUDA events around each run after a warm-up, with the device synchronised, so that a timing
is the kernels' time and not the launch queue's (deblurring papers often omit the synchronisation,
docs/protocols.md); peak memory from `torch.cuda.max_memory_allocated`. CPU: `perf_counter`
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

from irnext.cost.load import LoadProbe, verdict
from irnext.env import environment_stamp
from irnext.errors import InputError
from irnext.precisions import PRECISIONS, check_precision

# The torch dtype of each precision (bf16 runs under autocast: see `_forward`).
DTYPES = dict(zip(PRECISIONS, (torch.float32, torch.bfloat16), strict=True))


def time_callable(
    fn: Callable[[], Any], *, device: torch.device | str, warmup: int, runs: int
) -> dict[str, Any]:
    """Time `fn()` `runs` times after `warmup` calls; milliseconds per call and peak memory."""
    device = torch.device(device)
    _check_counts(warmup, runs)
    cuda = device.type == "cuda"
    start = time.perf_counter()
    for _ in range(warmup):
        fn()
    if cuda:
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
    warmup_s = time.perf_counter() - start
    times_ms = [_time_once(fn, cuda=cuda) for _ in range(runs)]
    return {
        **summarise_times(times_ms),
        "warmup": warmup,
        "warmup_s": warmup_s,  # includes compilation for compiled models
        "peak_memory_mib": torch.cuda.max_memory_allocated(device) / 2**20 if cuda else None,
        "process_peak_rss_mib": _peak_rss_mib(),
    }


def summarise_times(times_ms: Sequence[float]) -> dict[str, Any]:
    """Median, spread (IQR, 10th and 90th percentiles) and mean of per-call times (ms)."""
    q10, q25, q50, q75, q90 = np.percentile(times_ms, [10, 25, 50, 75, 90])
    return {
        "latency_ms_median": float(q50),
        "latency_ms_iqr": float(q75 - q25),
        "latency_ms_p10": float(q10),
        "latency_ms_p90": float(q90),
        "latency_ms_mean": float(np.mean(times_ms)),
        "runs": len(times_ms),
    }


def _check_counts(warmup: int, runs: int) -> None:
    if runs < 1 or warmup < 0:
        raise InputError(f"runs={runs}, warmup={warmup}: need runs >= 1 and warmup >= 0")


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
    """Latency record of `model` on a random input of `input_shape` (N, C, H, W), with the
    machine's load during the runs and the verdict on it (`flagged`, `flag_reasons`).

    dtype: "fp32", or "bf16" under autocast (how the official timings were taken).
    compile: False, True (torch.compile default mode) or a torch.compile mode name.
    batch: replaces N of input_shape. The model is moved to `device` and put in eval mode.
    """
    options = {"dtype": dtype, "compile": compile, "channels_last": channels_last}
    forward, facts = _forward(model, input_shape, device, batch=batch, **options)
    device = torch.device(device)
    with LoadProbe(_threads(device)) as probe:
        timing = time_callable(forward, device=device, warmup=warmup, runs=runs)
    return _record(facts, timing, probe.record(), device)


def compare_latency(
    models: dict[str, nn.Module],
    input_shape: Sequence[int],
    *,
    device: torch.device | str = "cpu",
    dtype: str = "fp32",
    warmup: int = 10,
    runs: int = 50,
) -> dict[str, dict[str, Any]]:
    """One latency record per model, timed with interleaved repeats: every round runs each
    model once (in an order rotated by one each round), so a change of the machine's load
    falls on every model alike instead of on whichever was timed at that moment."""
    device = torch.device(device)
    _check_counts(warmup, runs)
    cuda = device.type == "cuda"
    peaks = {
        name: _peak_memory(model, input_shape, device, dtype) for name, model in models.items()
    }
    prepared = {name: _forward(m, input_shape, device, dtype=dtype) for name, m in models.items()}
    names = list(prepared)
    with LoadProbe(_threads(device)) as probe:
        for name in names:
            for _ in range(warmup):
                prepared[name][0]()
        times: dict[str, list[float]] = {name: [] for name in names}
        for round_index in range(runs):
            shift = round_index % len(names)
            for name in names[shift:] + names[:shift]:
                times[name].append(_time_once(prepared[name][0], cuda=cuda))
    load = probe.record()
    records = {}
    for name in names:
        timing = {**summarise_times(times[name]), "warmup": warmup, "interleaved": names}
        timing["peak_memory_mib"] = peaks[name]
        timing["process_peak_rss_mib"] = _peak_rss_mib()
        records[name] = _record(prepared[name][1], timing, load, device)
    return records


def _forward(
    model: nn.Module,
    input_shape: Sequence[int],
    device: torch.device | str,
    *,
    dtype: str = "fp32",
    compile: bool | str = False,
    channels_last: bool = False,
    batch: int | None = None,
) -> tuple[Callable[[], Any], dict[str, Any]]:
    """A no-grad forward call on a fixed random input, and the facts of how it runs."""
    check_precision(dtype)
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

    facts = {
        "input_shape": list(shape),
        "batch": shape[0],
        "device": str(device),
        "precision": dtype,
        "compiled": compile if isinstance(compile, str) else bool(compile),
        "channels_last": channels_last,
        "threads": torch.get_num_threads(),
    }
    return forward, facts


def _peak_memory(model, input_shape, device: torch.device, dtype: str) -> float | None:
    """Peak CUDA memory of one forward pass with this model alone on the card (MiB)."""
    if device.type != "cuda":
        return None  # not measurable per call on CPU (module docstring)
    torch.cuda.empty_cache()
    forward, _ = _forward(model, input_shape, device, dtype=dtype)
    torch.cuda.synchronize(device)
    torch.cuda.reset_peak_memory_stats(device)
    forward()
    torch.cuda.synchronize(device)
    peak = torch.cuda.max_memory_allocated(device) / 2**20
    model.cpu()
    torch.cuda.empty_cache()
    return peak


def _threads(device: torch.device) -> int:
    # CPU runs use torch's intra-op threads; a CUDA run keeps one host thread busy.
    return torch.get_num_threads() if device.type == "cpu" else 1


def _record(facts, timing, load, device: torch.device) -> dict[str, Any]:
    record = {**facts, **timing, "load": load, **verdict(timing, load)}
    record["throughput_images_per_s"] = 1e3 * facts["batch"] / record["latency_ms_median"]
    record["environment"] = {**environment_stamp(device), "precision": facts["precision"]}
    record["device_name"] = record["environment"].get("device_name")
    return record
