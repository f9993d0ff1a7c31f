"""Resolution sweep and its plot, on CPU with tiny models."""

from __future__ import annotations

from torch import nn

from irnext.cost.scaling import padded_side, plot_scaling, resolution_sweep


def test_padded_side_rounds_up_to_the_multiple() -> None:
    assert padded_side(720, 32) == 736 and padded_side(1280, 32) == 1280
    assert padded_side(1, 32) == 32


def test_sweep_records_each_size_and_the_plot_is_written(tmp_path) -> None:
    class Strided(nn.Module):
        size_multiple = 8

        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(3, 3, 3, padding=1)

        def forward(self, x):
            return self.conv(x)

    builders = {"strided": Strided, "pixel": lambda: nn.Conv2d(3, 3, 1)}
    records = resolution_sweep(builders, [20, 16], warmup=1, runs=3)
    assert [(r["model"], r["size"]) for r in records] == [
        ("strided", 16),
        ("strided", 24),
        ("pixel", 16),
        ("pixel", 20),
    ]
    assert all(not r["oom"] and r["latency_ms_median"] > 0 for r in records)
    path = plot_scaling(records, tmp_path / "scaling.png")
    assert path.stat().st_size > 1000 and path.read_bytes()[:4] == b"\x89PNG"


def test_cli_sweep_writes_one_record_per_model_and_size(tmp_path) -> None:
    import json

    from irnext.cli import main

    out = tmp_path / "scaling.json"
    argv = ["latency", "--models", "irnext-test", "nafnet-mini", "--sweep", "64", "32"]
    assert main([*argv, "--runs", "2", "--warmup", "0", "--device", "cpu", "--out", str(out)]) == 0
    records = json.loads(out.read_text())
    assert [(r["model"], r["size"]) for r in records] == [
        ("irnext-test", 32),
        ("irnext-test", 64),
        ("nafnet-mini", 32),
        ("nafnet-mini", 64),
    ]
    for record in records:
        assert record["oom"] is False and record["latency_ms_median"] > 0
        assert record["device"] == "cpu" and isinstance(record["flagged"], bool)
        assert record["peak_memory_mib"] is None  # CPU: not measurable per call
