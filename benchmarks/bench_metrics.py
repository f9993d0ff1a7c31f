"""Metric throughput per protocol: a batch of image pairs scored in one `score_batch` call.

    pytest benchmarks/bench_metrics.py -s --benchmark-json results/bench/metrics.json

Two shapes: 16 images of 256 x 256 (the papers' crop) and 4 frames of 1280 x 720 (GoPro). Runs
on CUDA when present (`score_batch` returns Python floats, which waits for the GPU), else CPU.
Prints images/s per protocol; `extra_info` records device, batch and size beside the timings.
`realblur_aligned` runs 100 ECC iterations per image: expect it orders of magnitude slower.
"""

from __future__ import annotations

import pytest
import torch

from irnext.metrics import list_protocols, score_batch

DEVICE = torch.device("cuda" if torch.cuda.is_available() else "cpu")
SHAPES = {"256px": (16, 256, 256), "720p": (4, 720, 1280)}


@pytest.fixture(scope="module", params=sorted(SHAPES))
def pairs(request) -> tuple[str, torch.Tensor, torch.Tensor]:
    batch, height, width = SHAPES[request.param]
    generator = torch.Generator().manual_seed(0)
    target = torch.rand(batch, 3, height, width, generator=generator)
    noise = 0.05 * torch.randn(batch, 3, height, width, generator=generator)
    return request.param, (target + noise).clamp(0, 1).to(DEVICE), target.to(DEVICE)


@pytest.mark.parametrize("protocol", list_protocols())
def test_metric_throughput(benchmark, pairs, protocol):
    shape, prediction, target = pairs
    scores = benchmark(score_batch, prediction, target, protocol=protocol)
    assert len(scores) == prediction.shape[0]
    images_per_s = prediction.shape[0] / benchmark.stats.stats.median
    benchmark.extra_info.update(
        {"device": str(DEVICE), "shape": list(prediction.shape), "images_per_s": images_per_s}
    )
    print(f"\n{protocol:<17} {shape:<6} {images_per_s:9.2f} images/s ({DEVICE})")
