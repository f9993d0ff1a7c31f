"""Latency harness on CPU with a tiny model."""

from __future__ import annotations

import resource
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


class _Probe(nn.Module):
    """A convolution that sleeps a known time and records what each forward received."""

    def __init__(self, seconds: float) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 3, 1)
        self.seconds = seconds
        self.seen: list[tuple] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv(x)
        self.seen.append(
            (tuple(x.shape), y.dtype, x.is_contiguous(memory_format=torch.channels_last))
        )
        time.sleep(self.seconds)
        return y


@pytest.mark.parametrize(
    ("dtype", "computed_in"), [("fp32", torch.float32), ("bf16", torch.bfloat16)]
)
def test_measure_latency_record_on_cpu(dtype: str, computed_in: torch.dtype) -> None:
    model, seconds = _Probe(0.02), 0.02
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
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
    # Every timed forward got the batch, in channels-last layout, computed in the precision asked.
    assert len(model.seen) >= 2 + 5 and set(model.seen) == {((2, 3, 32, 32), computed_in, True)}
    assert record["input_shape"] == [2, 3, 32, 32] and record["batch"] == 2
    assert record["runs"] == 5 and record["precision"] == dtype
    # Never below the sleep; above it only by the harness and a shared machine's delays.
    assert seconds * 1e3 <= record["latency_ms_median"] < seconds * 1e3 * 5
    assert record["threads"] == torch.get_num_threads()
    assert record["environment"]["torch"] == torch.__version__
    assert record["process_peak_rss_mib"] >= rss_before


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


# --- load of the machine and the verdict on a measurement (irnext.cost.load) ---------------


def _probe(monkeypatch, *, load: float, jiffies: list[tuple[int, int]], own_s: float, cpus=2):
    """A LoadProbe that sees the given load average, /proc/stat samples and own CPU time."""
    from irnext.cost import load as load_module

    samples, own = iter(jiffies), iter([0.0, own_s])
    clock = iter([100.0, 101.0])  # one second of wall time
    monkeypatch.setattr(load_module.os, "getloadavg", lambda: (load, load, load))
    monkeypatch.setattr(load_module.os, "cpu_count", lambda: cpus)
    monkeypatch.setattr(load_module, "_cpu_jiffies", lambda: next(samples))
    monkeypatch.setattr(load_module, "_own_cpu_seconds", lambda: next(own))
    monkeypatch.setattr(load_module.time, "monotonic", lambda: next(clock))
    probe = load_module.LoadProbe(threads=1)
    with probe:
        pass
    return probe.record()


def test_an_idle_machine_is_not_busy(monkeypatch) -> None:
    # 2 cores, 1 s: 200 jiffies in all, 100 busy, all of them this process's own second.
    record = _probe(monkeypatch, load=0.3, jiffies=[(0, 0), (100, 200)], own_s=1.0)
    assert record["others_busy_cores"] == pytest.approx(0.0)
    assert record["busy"] is False and record["reason"] is None


def test_other_processes_beyond_the_free_core_make_the_machine_busy(monkeypatch) -> None:
    # Both cores busy the whole second (200 of 200 jiffies) while this process used one core:
    # the others used exactly the one free core, within the margin.
    within = _probe(monkeypatch, load=0.5, jiffies=[(0, 0), (200, 200)], own_s=1.0)
    assert within["others_busy_cores"] == pytest.approx(1.0) and within["busy"] is False
    # The same, but this process ran only half the second: others took 2 - 0.5 = 1.5 cores.
    busy = _probe(monkeypatch, load=0.5, jiffies=[(0, 0), (200, 200)], own_s=0.5)
    assert busy["others_busy_cores"] == pytest.approx(1.5)
    assert busy["busy"] is True and "1.50 core(s) busy" in busy["reason"]


def test_without_proc_stat_a_load_average_above_the_free_cores_makes_it_busy(monkeypatch) -> None:
    record = _probe(monkeypatch, load=1.5, jiffies=[None, None], own_s=1.0)
    assert record["others_busy_cores"] is None
    assert record["busy"] is True and "load average 1.50" in record["reason"]
    assert record["loadavg_1m_before"] == 1.5 and record["cpu_count"] == 2
    # With /proc/stat the measured CPU time of the others decides, not the 1-minute average
    # (which still holds the previous stage's work): here the others used no core.
    calm = _probe(monkeypatch, load=1.5, jiffies=[(0, 0), (100, 200)], own_s=1.0)
    assert calm["busy"] is False and calm["loadavg_1m_before"] == 1.5


def test_verdict_flags_a_wide_spread_and_a_busy_machine() -> None:
    from irnext.cost.load import verdict

    calm = {"busy": False, "reason": None}
    assert verdict({"latency_ms_median": 10.0, "latency_ms_iqr": 2.5}, calm)["flagged"] is False
    wide = verdict({"latency_ms_median": 10.0, "latency_ms_iqr": 2.6}, calm)
    assert wide["flagged"] is True and "26% of the median" in wide["flag_reasons"][0]
    busy = verdict(
        {"latency_ms_median": 10.0, "latency_ms_iqr": 0.1}, {"busy": True, "reason": "x"}
    )
    assert busy["flag_reasons"] == ["machine busy: x"]


def test_measure_latency_records_the_load_and_its_verdict() -> None:
    record = measure_latency(nn.Conv2d(3, 3, 1), (1, 3, 8, 8), warmup=0, runs=3)
    load = record["load"]
    assert set(load) >= {"loadavg_1m_before", "loadavg_1m_after", "cpu_count", "busy", "reason"}
    assert load["threads"] == torch.get_num_threads() == record["threads"]
    assert record["flagged"] == bool(record["flag_reasons"])


def test_compare_latency_interleaves_the_models_round_by_round() -> None:
    from irnext.cost.latency import compare_latency

    calls: list[str] = []

    class Named(nn.Module):
        def __init__(self, name: str) -> None:
            super().__init__()
            self.name = name

        def forward(self, x):
            calls.append(self.name)
            return x

    models = {name: Named(name) for name in ("a", "b", "c")}
    records = compare_latency(models, (1, 3, 4, 4), warmup=1, runs=3)
    # Warm-up once each, then rounds a-b-c, b-c-a, c-a-b (the order rotates by one each round).
    assert calls == ["a", "b", "c", "a", "b", "c", "b", "c", "a", "c", "a", "b"]
    assert list(records) == ["a", "b", "c"]
    for record in records.values():
        assert record["runs"] == 3 and record["interleaved"] == ["a", "b", "c"]
        assert record["load"] is records["a"]["load"] or record["load"] == records["a"]["load"]
        assert "flagged" in record and record["peak_memory_mib"] is None


def test_cli_times_several_models_into_one_file_each(tmp_path) -> None:
    import json

    from irnext.cli import main

    argv = ["latency", "--models", "irnext-test", "nafnet-mini", "--device", "cpu"]
    argv += ["--size", "32", "32", "--runs", "2", "--warmup", "0", "--out-dir", str(tmp_path)]
    assert main([*argv, "--cuda-size", "720", "1280"]) == 0
    # On CPU the frame size is not timed: one record per model, named after it.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["irnext-test.json", "nafnet-mini.json"]
    record = json.loads((tmp_path / "nafnet-mini.json").read_text())
    assert record["model"] == "nafnet-mini" and record["padded_size"] == [32, 32]
    assert record["device"] == "cpu" and record["threads"] >= 1
    assert {"latency_ms_median", "latency_ms_iqr", "load", "flagged", "environment"} <= set(record)
