"""`irnext models` lists every named model with the official parameter counts."""

from __future__ import annotations

import json

import pytest

import irnext
from irnext.cli import main
from tests.test_model import OFFICIAL_PARAMS

# IRNEXT_SPEC section 2: fvcore MACs of the official model at 1x3x256x256; fvcore skips the
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
