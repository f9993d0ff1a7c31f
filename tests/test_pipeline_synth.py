"""The synthetic benchmark's test sets: at least 24 pairs per task, none from a training scene."""

from __future__ import annotations

import json

import numpy as np
import pytest

from irnext.data import read_image
from irnext.data.synth.build import build_benchmark
from irnext.data.synth.photos import PHOTOS


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("synth")
    manifest = build_benchmark(task="rain", out=out, train_count=8, size_px=32)  # default tests
    return out, manifest


def test_the_default_test_set_holds_24_pairs(built):
    out, manifest = built
    assert manifest["test_count"] == 24
    assert len(list((out / "test" / "input").glob("*.png"))) == 24
    assert len(list((out / "test" / "target").glob("*.png"))) == 24


def test_test_pairs_come_only_from_held_out_scenes(built):
    _, manifest = built
    train_scenes = {p.name for p in PHOTOS if p.split == "train"}
    test_scenes = {p.name for p in PHOTOS if p.split == "test"}
    assert train_scenes.isdisjoint(test_scenes)
    used = {s["split"]: set() for s in manifest["samples"]}
    for sample in manifest["samples"]:
        used[sample["split"]].add(sample["photo"])
    assert used["test"] <= test_scenes and used["train"] <= train_scenes
    assert len(used["test"]) >= 2  # several scenes, not one photograph cropped 24 times


def test_test_pairs_are_distinct_draws_and_no_training_crop(built):
    out, manifest = built
    tests = [s for s in manifest["samples"] if s["split"] == "test"]
    # Each pair is its own crop (scale and window) and degradation draw of its scene.
    draws = {json.dumps([s["photo"], s["crop"], s["degradation"]], sort_keys=True) for s in tests}
    assert len(draws) == 24
    crops = {(s["photo"], s["crop"]["scale"], s["crop"]["top"], s["crop"]["left"]) for s in tests}
    assert len(crops) == 24
    inputs = [read_image(p) for p in sorted((out / "test" / "input").glob("*.png"))]
    assert len({image.tobytes() for image in inputs}) == 24
    # No test target is a training crop: differences above 8-bit rounding (1/255^2 ~ 1.5e-5).
    test = [read_image(p) for p in sorted((out / "test" / "target").glob("*.png"))]
    train = [read_image(p) for p in sorted((out / "train" / "target").glob("*.png"))]
    for target in test:
        assert min(np.mean((target - t) ** 2) for t in train) > 1.5e-5


def test_a_rebuild_writes_the_same_manifest(built, tmp_path):
    out, _ = built
    build_benchmark(task="rain", out=tmp_path, train_count=8, size_px=32)
    first = json.loads((out / "manifest.json").read_text())
    assert (tmp_path / "manifest.json").read_text() == (out / "manifest.json").read_text()
    assert first["samples"][0]["split"] == "train"
