"""The synthetic benchmark's validation split: other crops of the training photographs, never a
test scene, and its presence changes no train or test pair."""

from __future__ import annotations

from irnext.data import open_dataset
from irnext.data.synth.build import build_benchmark


def test_validation_pairs_come_from_training_photographs_only(tmp_path):
    manifest = build_benchmark(
        task="haze", out=tmp_path / "with", train_count=3, test_count=2, val_count=4, size_px=32
    )
    photos = {split: set(names) for split, names in manifest["photos"].items()}
    val = [s for s in manifest["samples"] if s["split"] == "val"]
    assert len(val) == 4 and manifest["val_count"] == 4
    assert {s["photo"] for s in val} <= photos["train"] and not photos["train"] & photos["test"]
    dataset = open_dataset("synth-haze", tmp_path / "with", split="val")
    assert len(dataset) == 4 and {p.scene for p in dataset.pairs} <= photos["train"]
    build_benchmark(task="haze", out=tmp_path / "without", train_count=3, test_count=2, size_px=32)
    for split in ("train", "test"):
        for side in ("input", "target"):
            files = sorted((tmp_path / "without" / split / side).iterdir())
            assert files and all(
                f.read_bytes() == (tmp_path / "with" / split / side / f.name).read_bytes()
                for f in files
            )
    # A validation crop is not a training crop: the generators differ by split.
    train = {(s["photo"], str(s["crop"])) for s in manifest["samples"] if s["split"] == "train"}
    assert not {(s["photo"], str(s["crop"])) for s in val} & train
