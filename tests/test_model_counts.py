"""The stored `irnext models` table (irnext/cost/model_counts.json) against recounts and papers.

A model changed without `python benchmarks/model_counts.py` fails here: every parameter count is
recounted (models built on the meta device: cheap), MACs for a sample.
"""

from __future__ import annotations

import json

import pytest
import torch

from irnext.cost.complexity import build_for_counting, count_named, load_published
from irnext.cost.counters import count_macs, count_params
from irnext.cost.table import SIZE, STORED, stored_counts
from irnext.models.registry import create_model, list_models
from tests.test_model import OFFICIAL_PARAMS

PUBLISHED = load_published(STORED.parents[2] / "benchmarks" / "published" / "cost.yaml")
STORED_COUNTS = stored_counts()


def test_every_named_model_is_stored_with_its_provenance():
    assert list(STORED_COUNTS) == list_models()
    provenance = json.loads(STORED.read_text())["provenance"]
    assert provenance["input_shape"] == [1, 3, SIZE, SIZE]
    assert {"counter", "torch", "git_commit", "written_by"} <= set(provenance)


@pytest.mark.parametrize("name", list_models())
def test_stored_parameters_match_a_recount(name):
    assert STORED_COUNTS[name]["params"] == count_params(build_for_counting(name))


@pytest.mark.parametrize("name", ["irnext-dehaze", "restormer-mini", "nafnet-mini"])
def test_stored_macs_match_a_recount(name):
    counts = count_named(name, (1, 3, SIZE, SIZE), counters=("torch",))
    assert STORED_COUNTS[name]["macs"] == counts["macs_torch"]


def test_counting_on_meta_equals_counting_a_real_model():
    real = create_model("uformer-mini")  # built with initialised weights on the CPU
    assert real.parameters().__next__().device == torch.device("cpu")
    counts = count_macs(real, (1, 3, SIZE, SIZE), counters=("torch",))
    recount = {"params": count_params(real), "macs": counts["macs_torch"]}
    assert STORED_COUNTS["uformer-mini"] == recount


def test_parameter_counts_are_the_official_ones():
    # The released IRNeXt (tests/test_model.py: counted by running the official model).
    assert STORED_COUNTS["irnext-dehaze"]["params"] == OFFICIAL_PARAMS[4] == 5_455_241
    assert STORED_COUNTS["irnext-motion-deblur"]["params"] == OFFICIAL_PARAMS[14]
    # The papers' rounded figures (benchmarks/published/cost.yaml, each with its source).
    published = {
        name: entry["params"]
        for name, entry in PUBLISHED["models"].items()
        if entry.get("params") and name in STORED_COUNTS
    }
    assert {"irnext-dehaze", "restormer", "nafnet-w64"} <= set(published)
    for name, params in published.items():
        assert STORED_COUNTS[name]["params"] == pytest.approx(params, abs=5_000), name


def test_irnext_macs_are_fvcores_count_of_the_official_model():
    # fvcore on the official model: 38.83 G; it skips the dynamic filter (~0.02 G) counted here.
    fvcore = PUBLISHED["models"]["irnext-dehaze"]["fvcore_gmacs"]
    assert STORED_COUNTS["irnext-dehaze"]["macs"] / 1e9 == pytest.approx(fvcore, rel=2e-3)
