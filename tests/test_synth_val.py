"""The synthetic benchmark's validation split: crops and degradation draws of the training
photographs only, none repeating a training pair, recorded in the manifest."""

import json

import numpy as np
import pytest

from irnext.data import open_dataset
from irnext.data.images import read_image
from irnext.data.synth import build_benchmark
from irnext.data.synth.photos import PHOTOS
from irnext.errors import InputError

TEST_PHOTOS = {p.name for p in PHOTOS if p.split == "test"}
TRAIN_PHOTOS = {p.name for p in PHOTOS if p.split == "train"}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("synth") / "rain"
    manifest = build_benchmark(
        task="rain", out=out, train_count=6, test_count=2, val_count=5, size_px=32
    )
    return out, manifest


def test_validation_images_come_from_training_photographs_only(built):
    out, manifest = built
    val = [s for s in manifest["samples"] if s["split"] == "val"]
    assert len(val) == 5 == manifest["val_count"]
    assert {s["photo"] for s in val} <= TRAIN_PHOTOS
    assert not {s["photo"] for s in val} & TEST_PHOTOS
    # The files on disk, not only the manifest: each name ends with its photograph.
    names = sorted(p.stem for p in (out / "val" / "input").glob("*.png"))
    assert names == sorted(s["name"] for s in val)
    assert not any(name.endswith(tuple(TEST_PHOTOS)) for name in names)
    assert json.loads((out / "manifest.json").read_text())["val_count"] == 5


def test_validation_crops_and_draws_differ_from_training_ones(built):
    out, manifest = built
    by_split = {
        split: [s for s in manifest["samples"] if s["split"] == split] for split in ("train", "val")
    }

    def key(sample):
        return (sample["photo"], json.dumps(sample["crop"]), json.dumps(sample["degradation"]))

    assert not {key(s) for s in by_split["val"]} & {key(s) for s in by_split["train"]}
    train = [read_image(p) for p in sorted((out / "train" / "input").glob("*.png"))]
    for path in sorted((out / "val" / "input").glob("*.png")):
        image = read_image(path)
        assert all(not np.array_equal(image, other) for other in train), path.name


def test_validation_split_opens_as_a_dataset_and_leaves_train_and_test_unchanged(built, tmp_path):
    out, _ = built
    assert len(open_dataset("synth-rain", out, split="val")) == 5
    without = build_benchmark(
        task="rain", out=tmp_path / "r", train_count=6, test_count=2, size_px=32
    )
    assert not (tmp_path / "r" / "val").exists()
    for split in ("train", "test"):  # adding a validation split changes no other pair
        for path in sorted((out / split / "input").glob("*.png")):
            other = tmp_path / "r" / split / "input" / path.name
            assert path.read_bytes() == other.read_bytes()
    assert "val_count" not in without  # a build without validation keeps its earlier manifest


def test_a_rebuild_without_validation_removes_the_old_val_folder(tmp_path):
    build_benchmark(task="snow", out=tmp_path, train_count=1, test_count=1, val_count=2, size_px=32)
    build_benchmark(task="snow", out=tmp_path, train_count=1, test_count=1, size_px=32)
    assert not (tmp_path / "val").exists()


def test_negative_validation_count_is_a_named_error(tmp_path):
    with pytest.raises(InputError, match="val_count=-1"):
        build_benchmark(task="snow", out=tmp_path, train_count=1, test_count=1, val_count=-1)
