"""Metric throughput per protocol: a batch of 256x256 image pairs scored in one call.

    pytest benchmarks/bench_metrics.py -s --benchmark-json results/bench/metrics.json

Runs on CUDA when present (synchronised before the clock stops), else CPU. Prints images/s per
protocol; `extra_info` records the device, batch and image size beside the timings.
"""

from __future__ import annotations

import pytest
import torch

from irnext.metrics import list_protocols, score_batch

BATCH, SIZE = 16, 256
DEVICE = torch.device("cuda" if torch.cuda.is_available() else "cpu")


@pytest.fixture(scope="module")
def pairs() -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    target = torch.rand(BATCH, 3, SIZE, SIZE, generator=generator)
    noise = 0.05 * torch.randn(BATCH, 3, SIZE, SIZE, generator=generator)
    return (target + noise).clamp(0, 1).to(DEVICE), target.to(DEVICE)


@pytest.mark.parametrize("protocol", list_protocols())
def test_metric_throughput(benchmark, pairs, protocol):
    prediction, target = pairs

    def run() -> list[dict[str, float]]:
        scores = score_batch(prediction, target, protocol=protocol)  # .tolist() synchronises
        return scores

    scores = benchmark(run)
    assert len(scores) == BATCH
    images_per_s = BATCH / benchmark.stats.stats.median
    benchmark.extra_info.update(
        {"device": str(DEVICE), "batch": BATCH, "size_px": SIZE, "images_per_s": images_per_s}
    )
    print(f"\n{protocol:<14} {images_per_s:9.1f} images/s ({DEVICE}, batch {BATCH}, {SIZE}px)")
