"""Timing an evaluation without stalling the device, and the summary keys that hold timings.

Scores are deterministic; seconds are not. `evaluate` returns both in one summary, under the
keys listed in `RUN_KEYS` (plus each row's and each mean's "seconds"); `irnext evaluate` writes
those to run.json and everything else to the score files (see `irnext.evaluation.outputs`).
"""

from __future__ import annotations

import time

import torch

# Summary keys that hold timings or the environment: split off the score files.
RUN_KEYS = (
    "seconds_total",
    "inference_seconds_total",
    "metric_seconds_total",
    "images_per_second",
    "metric_images_per_second",
    "environment",
)


class StageClock:
    """Seconds of the device work between `start()` and `stop()`, one span per call pair.

    On CUDA, events are recorded in the stream and read once at the end, so timing adds no
    host synchronisation; on CPU the work is synchronous and the wall clock measures it.
    """

    def __init__(self, device: torch.device) -> None:
        self.cuda = device.type == "cuda"
        self._spans: list = []

    def start(self):
        if not self.cuda:
            return time.perf_counter()
        event = torch.cuda.Event(enable_timing=True)
        event.record()
        return event

    def stop(self, started) -> None:
        if not self.cuda:
            self._spans.append(time.perf_counter() - started)
            return
        event = torch.cuda.Event(enable_timing=True)
        event.record()
        self._spans.append((started, event))

    def seconds(self) -> list[float]:
        """Every span in seconds (waits for the device on CUDA: call once, at the end)."""
        if not self.cuda:
            return list(self._spans)
        torch.cuda.synchronize()
        return [begin.elapsed_time(end) / 1000.0 for begin, end in self._spans]


def throughput(count: int, total_s: float, inference_s: float, metric_s: float) -> dict:
    return {
        "seconds_total": total_s,
        "inference_seconds_total": inference_s,
        "metric_seconds_total": metric_s,
        "images_per_second": count / total_s,
        "metric_images_per_second": count / max(metric_s, 1e-12),
    }
