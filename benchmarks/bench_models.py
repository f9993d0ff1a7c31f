"""CPU throughput: forward of each named model at a small size, a metric, the data pipeline.

Sizes are small so that the whole suite runs in minutes on a 2-core CPU; these numbers track
regressions of this code base, they are not the GPU comparison (benchmarks/gpu_suite.py).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from irnext.inference import forward_restored
from irnext.models.registry import create_model, list_models

SIZE = 64  # the smallest side every named model accepts (IRNeXt: 64, multiple of 32)


@pytest.mark.parametrize("name", list_models())
def test_forward(benchmark, environment, name: str) -> None:
    torch.manual_seed(0)
    model = create_model(name).eval()
    x = torch.rand(1, 3, SIZE, SIZE)
    with torch.no_grad():
        out = benchmark.pedantic(lambda: forward_restored(model, x), rounds=3, warmup_rounds=1)
    assert out.shape[-2:] == x.shape[-2:]
    benchmark.extra_info.update(
        {
            "model": name,
            "input_shape": list(x.shape),
            "threads": torch.get_num_threads(),
            "environment": environment,
        }
    )


def test_ssim_throughput(benchmark, environment) -> None:
    from irnext.metrics.functional import ssim

    torch.manual_seed(0)
    a, b = torch.rand(2, 4, 3, 256, 256)
    value = benchmark(ssim, a, b, data_range=1.0)
    assert value.shape == (4,) and bool((value < 1).all())
    benchmark.extra_info.update(
        {"metric": "ssim (gaussian 11x11)", "images": [4, 3, 256, 256], "environment": environment}
    )


def test_image_read_throughput(benchmark, environment, tmp_path) -> None:
    from irnext.data.images import read_image, write_image

    rng = np.random.default_rng(0)
    path = tmp_path / "frame.png"
    write_image(path, rng.random((720, 1280, 3)).astype(np.float32))
    assert benchmark(read_image, path).shape == (720, 1280, 3)
    benchmark.extra_info.update(
        {"stage": "read_image: 720x1280 8-bit PNG to float RGB", "environment": environment}
    )
