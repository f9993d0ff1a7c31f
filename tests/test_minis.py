"""The default profile's miniature models: equal compute with irnext-mini, said plainly."""

from __future__ import annotations

import pytest
import torch

from irnext.cost.counters import count_macs
from irnext.models import minis
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


def test_irnext_mini_keeps_every_component():
    kwargs = model_entry("irnext-mini").kwargs
    for switch in ("msm", "lam", "frequency_modulation", "multi_input", "multi_output"):
        assert kwargs.get(switch, True) is True
    assert len(kwargs["pool_sizes"]) >= 2


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
