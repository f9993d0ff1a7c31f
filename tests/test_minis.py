"""The default profile's miniature models: equal compute with irnext-mini, said plainly."""

from __future__ import annotations

import re

import pytest
import torch

from irnext.cost.counters import count_macs
from irnext.models import minis
from irnext.models.irnext import IRNeXt
from irnext.models.registry import create_model, model_entry

BASELINES = [entry.name for entry in minis.ENTRIES if entry.name != "irnext-mini"]


@pytest.fixture(scope="module")
def reference_macs() -> float:
    return count_macs(create_model("irnext-mini"), (1, 3, 256, 256), counters=("torch",))[
        "macs_torch"
    ]


def test_the_profile_compares_restormer_nafnet_and_a_third_transformer():
    architectures = {model_entry(name).architecture for name in BASELINES}
    assert {"restormer", "nafnet"} <= architectures
    assert architectures & {"uformer-windowed", "fftformer"}


@pytest.mark.parametrize("name", BASELINES)
def test_miniature_macs_are_within_a_quarter_of_irnext_mini(name, reference_macs):
    macs = count_macs(create_model(name), (1, 3, 256, 256), counters=("torch",))["macs_torch"]
    assert abs(macs / reference_macs - 1) <= 0.25, (name, macs / 1e9, reference_macs / 1e9)


def _components(model: torch.nn.Module) -> set[str]:
    """The model's parameter and buffer names with indices folded: which components it has,
    whatever their number (a switched-off component takes its weights away)."""
    return {re.sub(r"\.\d+(?=\.)", ".#", key) for key in model.state_dict()}


def test_irnext_mini_keeps_every_component():
    mini, paper = create_model("irnext-mini").eval(), IRNeXt().eval()
    assert _components(mini) == _components(paper)
    # At least two coarser scales in the multi-scale modules (the paper's have three).
    scales = {
        m.group(1) for key in mini.state_dict() if (m := re.search(r"msm\.filters\.(\d+)", key))
    }
    assert len(scales) >= 2
    with torch.no_grad():  # three outputs, coarse to fine, as the paper's model
        sides = [[o.shape[-1] for o in model(torch.rand(1, 3, 64, 64))] for model in (mini, paper)]
    assert sides[0] == sides[1] == [16, 32, 64]


@pytest.mark.parametrize("name", [entry.name for entry in minis.ENTRIES])
def test_miniatures_say_they_are_the_suites_own_configurations(name):
    entry = model_entry(name)
    assert "not a published model" in entry.assumption
    if name != "irnext-mini":
        assert "equal compute" in entry.assumption


@pytest.mark.parametrize("name", [entry.name for entry in minis.ENTRIES])
def test_miniatures_restore_a_training_patch_to_its_shape(name):
    torch.manual_seed(0)
    model = create_model(name).eval()
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        out = model(x)
    out = out[-1] if isinstance(out, (list, tuple)) else out
    assert out.shape == x.shape and torch.isfinite(out).all()
