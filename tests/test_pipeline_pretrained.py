"""The paper profile's `pretrained` cells: official weight files scored with no training."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from irnext.cli import main
from irnext.data import write_image
from irnext.models.irnext import IRNeXt
from irnext.models.official import to_official
from irnext.models.registry import create_model

REPO = Path(__file__).resolve().parents[1]


def _pairs(root: Path, count: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    for index in range(1, count + 1):
        clean = rng.random((64, 64, 3)).astype(np.float32)
        write_image(root / "target" / f"{index}.png", clean)
        write_image(root / "input" / f"{index}.png", np.clip(clean + 0.2, 0, 1))


@pytest.fixture
def paper_workspace(tmp_path, monkeypatch):
    """The paper profile with two test sets of the rain task (miniatures in their real
    layouts) and official-format weights: an IRNeXt .pkl and a spandrel NAFNet .pth."""
    monkeypatch.chdir(tmp_path)
    torch.manual_seed(0)
    weights = tmp_path / "weights"
    weights.mkdir()
    official = to_official(IRNeXt(num_res=4).state_dict())
    torch.save({"model": official}, weights / "irnext.pkl")  # the release's {'model': sd}
    torch.save({"params": create_model("nafnet-mini").net.state_dict()}, weights / "nafnet.pth")
    for name, count in (("rain100l", 2), ("test100", 1)):
        _pairs(tmp_path / name, count, seed=count)
    roots = {"rain100l": str(tmp_path / "rain100l"), "test100": str(tmp_path / "test100")}
    (tmp_path / "datasets.yaml").write_text(yaml.safe_dump({"datasets": roots}))
    params = yaml.safe_load((REPO / "profiles" / "paper.yaml").read_text())
    params["paper"]["rain"]["test"] = ["rain100l", "test100"]
    params["evaluate"]["device"] = "cpu"
    params["pretrained"] = {
        "irnext-rain": {"weights": "weights/irnext.pkl", "kind": "irnext", "task": "rain"},
        "nafnet-rain": {"weights": "weights/nafnet.pth", "kind": "baseline", "task": "rain"},
    }
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    return tmp_path


@pytest.mark.parametrize(
    "name, file", [("irnext-rain", "irnext.pkl"), ("nafnet-rain", "nafnet.pth")]
)
def test_official_weights_are_scored_on_every_test_set_of_their_task(paper_workspace, name, file):
    assert main(["bench", "pretrained", "--name", name]) == 0
    sha = hashlib.sha256((paper_workspace / "weights" / file).read_bytes()).hexdigest()
    for dataset, count in (("rain100l", 2), ("test100", 1)):
        folder = paper_workspace / "results" / "pretrained" / name / dataset
        summary = json.loads((folder / "summary.json").read_text())
        assert summary["dataset"] == dataset and summary["count"] == count
        assert summary["protocol"] == "matlab_y"  # the deraining sets' protocol
        assert summary["weights_sha256"] == sha
        assert np.isfinite(summary["means"]["psnr_db"])
        rows = (folder / "per_image.csv").read_text().splitlines()
        assert len(rows) == count + 1  # header and one row per image


def test_a_missing_weights_file_is_a_named_error(paper_workspace, capsys):
    (paper_workspace / "weights" / "irnext.pkl").unlink()
    assert main(["bench", "pretrained", "--name", "irnext-rain"]) == 2
    assert "irnext.pkl" in capsys.readouterr().err
