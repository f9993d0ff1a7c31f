"""Image sides a model cannot run at are a named error before any timing, not a traceback."""

from __future__ import annotations

import pytest

from irnext.cli import main
from irnext.cost import scaling
from irnext.errors import InputError
from irnext.models.registry import create_model
from tests.reliability._faults import ROOT


def test_scaling_sizes_below_the_minimum_stop_the_bench_stage(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    text = (ROOT / "profiles" / "default.yaml").read_text()
    edited = text.replace("scaling_sizes: [64, 128, 256]", "scaling_sizes: [1, 64]")
    assert edited != text
    (tmp_path / "params.yaml").write_text(edited.replace("device: auto", "device: cpu"))
    assert main(["bench", "scaling"]) == 2
    error = capsys.readouterr().err
    # irnext-mini pads to a multiple of 16 and needs 2 such blocks (its reflect padding)
    assert "image sides [1]: model 'irnext-mini' needs sides of at least 32" in error
    assert not (tmp_path / "results").exists()  # nothing timed, nothing written


def test_one_model_at_a_too_small_frame_is_named(capsys):
    args = ["latency", "--model", "irnext-test", "--size", "4", "40", "--device", "cpu"]
    assert main([*args, "--runs", "1", "--warmup", "0"]) == 2
    assert "image sides [4]: model 'irnext-test' needs sides of at least" in capsys.readouterr().err


def test_the_sweep_checks_every_model_before_timing_the_first(monkeypatch):
    timed = []
    monkeypatch.setattr(scaling, "measure_latency", lambda *a, **k: timed.append(a) or {})
    builders = {
        name: (lambda name=name: create_model(name)) for name in ("nafnet-mini", "irnext-test")
    }
    with pytest.raises(InputError, match="model 'irnext-test' needs sides of at least 32"):
        scaling.resolution_sweep(builders, [16, 64], runs=1, warmup=0)
    assert timed == []  # nafnet-mini runs at 16, but nothing was timed before the refusal
