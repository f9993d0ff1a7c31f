"""The results layout (irnext.pipeline.layout) is the one DVC declares and the readers parse."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from irnext.names import UnsafeNameError
from irnext.pipeline.layout import cell_paths, cell_stem, split_stem

REPO = Path(__file__).resolve().parents[1]


def _declared(entries: list, item: dict[str, str]) -> set[str]:
    """dvc.yaml's outs or plots of a cell stage, with `${item.KEY}` filled in."""
    paths = set()
    for entry in entries:
        path = next(iter(entry)) if isinstance(entry, dict) else entry
        for key, value in item.items():
            path = path.replace(f"${{item.{key}}}", value)
        paths.add(path)
    return paths


def test_dvc_declares_exactly_the_files_a_cell_writes():
    stage = yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"]["cell"]
    item = {"task": "haze", "model": "restormer-mini", "seed": "2"}
    declared = _declared(stage["outs"], item) | _declared(stage["plots"], item)
    written = {str(path) for path in cell_paths("haze", "restormer-mini", 2).values()}
    assert written == declared


@pytest.mark.parametrize(
    ("model", "seed", "stem"),
    [("restormer-mini", 1, "restormer-mini-s1"), ("irnext-s2", 10, "irnext-s2-s10")],
)
def test_a_stem_names_its_model_and_seed_and_reads_back(model, seed, stem):
    assert cell_stem(model, seed) == stem
    assert split_stem(stem) == (model, seed)


def test_unseeded_runs_keep_their_name():
    assert cell_stem("identity", None) == "identity"
    assert split_stem("identity") == ("identity", None)
    assert split_stem("nafnet-mini-sx") == ("nafnet-mini-sx", None)


def test_cell_paths_refuse_a_model_name_that_would_leave_its_folder():
    with pytest.raises(UnsafeNameError):
        cell_paths("haze", "../../etc", 0)
