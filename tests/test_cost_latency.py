"""Latency harness on CPU with a tiny model."""

from __future__ import annotations

import time

import pytest
import torch
from torch import nn

from irnext.cost.latency import measure_latency, time_callable
from irnext.errors import InputError


def test_time_callable_measures_a_known_sleep() -> None:
    record = time_callable(lambda: time.sleep(0.004), device="cpu", warmup=1, runs=7)
    assert 4.0 <= record["latency_ms_median"] < 40.0
    assert record["latency_ms_p10"] <= record["latency_ms_median"] <= record["latency_ms_p90"]
    assert record["latency_ms_iqr"] >= 0
    assert record["runs"] == 7 and record["peak_memory_mib"] is None  # not measurable on CPU


@pytest.mark.parametrize("dtype", ["fp32", "bf16"])
def test_measure_latency_record_on_cpu(dtype: str) -> None:
    model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.GELU(), nn.Conv2d(8, 3, 3, padding=1))
    record = measure_latency(
        model,
        (1, 3, 32, 32),
        device="cpu",
        dtype=dtype,
        warmup=2,
        runs=5,
        batch=2,
        channels_last=True,
    )
    assert record["input_shape"] == [2, 3, 32, 32] and record["batch"] == 2
    assert record["precision"] == dtype == record["environment"]["precision"]
    assert record["threads"] == torch.get_num_threads()
    assert record["latency_ms_median"] > 0
    assert record["environment"]["torch"] == torch.__version__
    assert record["process_peak_rss_mib"] > 0


class _Sleeper(nn.Module):
    """A 'network' whose forward takes a known time, whatever the batch."""

    def __init__(self, seconds: float) -> None:
        super().__init__()
        self.seconds = seconds
        self.scale = nn.Parameter(torch.ones(()))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        time.sleep(self.seconds)
        return x * self.scale


def test_latency_and_throughput_of_a_forward_of_known_duration() -> None:
    batch, seconds, runs = 4, 0.02, 5
    model = _Sleeper(seconds)
    record = measure_latency(model, (1, 3, 8, 8), device="cpu", warmup=1, runs=runs, batch=batch)
    # Never below the sleep; above it only by the harness and a shared machine's delays.
    assert seconds * 1e3 <= record["latency_ms_median"] < seconds * 1e3 * 3
    # Throughput against a loop of the same forward timed here, images over wall time.
    x = torch.rand(batch, 3, 8, 8)
    start = time.perf_counter()
    with torch.no_grad():
        for _ in range(runs):
            model(x)
    looped = batch * runs / (time.perf_counter() - start)
    assert looped / 3 < record["throughput_images_per_s"] <= batch / seconds
    assert record["throughput_images_per_s"] > batch / (seconds * 3)


def test_unknown_precision_is_rejected() -> None:
    with pytest.raises(InputError, match="fp16"):
        measure_latency(nn.Identity(), (1, 3, 8, 8), dtype="fp16")


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_measure_latency_on_cuda_records_the_card_and_its_peak_memory() -> None:
    model = nn.Sequential(nn.Conv2d(3, 64, 3, padding=1), nn.GELU(), nn.Conv2d(64, 3, 3, padding=1))
    record = measure_latency(model, (1, 3, 512, 512), device="cuda", dtype="bf16", runs=5)
    # One 64-channel 512 x 512 activation in fp32 is 64 MiB: the peak holds at least that.
    assert record["peak_memory_mib"] >= 64
    assert record["environment"]["device_name"] == torch.cuda.get_device_name()
    assert record["latency_ms_median"] > 0 and record["latency_ms_iqr"] >= 0


def test_train_step_updates_the_weights_and_records_the_step() -> None:
    from irnext.cost.train_step import measure_train_step
    from irnext.models.registry import create_model

    torch.manual_seed(0)
    model = create_model("irnext-test")  # three output scales: the paper's multi-scale loss
    before = [p.detach().clone() for p in model.parameters()]
    record = measure_train_step(model, batch=2, size=(32, 32), warmup=1, runs=2)
    changed = sum(not torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))
    assert changed > len(before) // 2  # Adam moved the weights: a real optimiser step was timed
    assert record["input_shape"] == [2, 3, 32, 32] and record["runs"] == 2
    assert record["latency_ms_median"] > 0 and record["environment"]["precision"] == "fp32"


def test_cli_times_a_dataset_frame_padded_to_the_model_multiple(tmp_path, capsys) -> None:
    import json

    from irnext.cli import main

    out = tmp_path / "latency.json"
    argv = ["latency", "--model", "irnext-test", "--dataset", "sots-indoor", "--device", "cpu"]
    assert main([*argv, "--runs", "2", "--warmup", "0", "--out", str(out)]) == 0
    record = json.loads(out.read_text())
    # SOTS-indoor frames are 460 x 620; irnext-test takes multiples of 16: 464 x 624.
    assert record["requested_size"] == [460, 620] and record["padded_size"] == [464, 624]
    assert record["input_shape"] == [1, 3, 464, 624]
    assert "irnext-test forward, 1x3x464x624 fp32" in capsys.readouterr().out
