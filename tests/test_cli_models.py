"""`irnext models` lists every named model with the official parameter counts."""

from __future__ import annotations

import json

import pytest

import irnext
from irnext.cli import main
from tests.test_model import OFFICIAL_PARAMS

# docs/network.md: fvcore MACs of the official model at 1x3x256x256; fvcore skips the
# dynamic filter's work, which the suite counts (about 0.02 G), so ours may be slightly higher.
FVCORE_GMACS = {4: 38.83, 14: 111.31}


def test_models_json_lists_every_irnext_variant(capsys):
    assert main(["models", "--json", "--task", "derain"]) == 0
    rows = {row["name"]: row for row in json.loads(capsys.readouterr().out)}
    assert set(rows) == set(irnext.list_models(task="derain"))
    deblur = rows["irnext-derain"]
    assert deblur["params"] == OFFICIAL_PARAMS[14]
    assert deblur["gmacs"] == pytest.approx(FVCORE_GMACS[14], rel=2e-3)
    assert deblur["assumption"]


def test_models_table_prints_params_and_macs(capsys):
    assert main(["models", "--task", "dehaze"]) == 0
    out = capsys.readouterr().out
    line = next(row for row in out.splitlines() if row.startswith("irnext-dehaze "))
    assert f"{OFFICIAL_PARAMS[4]:,}" in line
    assert float(line.split()[3]) == pytest.approx(FVCORE_GMACS[4], rel=2e-3)


def test_commands_name_bad_values_instead_of_tracing_back(tmp_path, capsys):
    assert main(["models", "--task", "deblocking"]) == 2
    assert "unknown task 'deblocking'; tasks of the named models:" in capsys.readouterr().err
    roots = tmp_path / "datasets.yaml"
    roots.write_text("datasets:\n  gopro: null\n")
    assert main(["data", "inspect", "gopro", "--datasets", str(roots)]) == 2
    assert "datasets.gopro is null" in capsys.readouterr().err
    latency = ["latency", "--model", "irnext-test", "--device", "cpu"]
    assert main([*latency, "--size", "0", "64"]) == 2
    assert "--size 0 64" in capsys.readouterr().err
    assert main([*latency, "--train-step", "--batch", "1"]) == 2
    assert "--batch 1 x 1 process(es) does not fit IRNeXt: its BatchNorm" in capsys.readouterr().err
    # Restormer has no BatchNorm: one image per training step is a valid measurement.
    restormer = ["latency", "--model", "restormer-mini", "--device", "cpu", "--size", "64", "64"]
    assert main([*restormer, "--train-step", "--batch", "1", "--runs", "1", "--warmup", "0"]) == 0


def test_the_suites_own_configurations_say_so(capsys):
    assert main(["models", "--task", "test"]) == 0
    rows = [line for line in capsys.readouterr().out.splitlines() if "-mini " in line]
    assert len(rows) >= 4 and all(line.endswith("(suite's own)") for line in rows)
