"""Every test image knows its scene (irnext.data.scenes): counted by hand on miniature layouts."""

from __future__ import annotations

import json

import pytest

from irnext.data import open_dataset
from irnext.data.synth.build import build_benchmark
from irnext.errors import InputError
from irnext.evaluation import EvalOptions, IdentityModel, evaluate
from tests._data_helpers import make_layout


def _scenes(name, root, split="test"):
    return {pair.name: pair.scene for pair in open_dataset(name, root, split=split).pairs}


def test_gopro_and_realblur_scenes_are_their_sequence_folders(tmp_path):
    make_layout("gopro", tmp_path / "gopro")
    assert _scenes("gopro", tmp_path / "gopro") == {
        "GOPR0384_11_00/000001": "GOPR0384_11_00",
        "GOPR0384_11_00/000002": "GOPR0384_11_00",
        "GOPR0410_11_00/000047": "GOPR0410_11_00",
    }
    make_layout("realblur-j", tmp_path / "rb")
    assert set(_scenes("realblur-j", tmp_path / "rb").values()) == {"scene230", "scene231"}


def test_hide_scene_is_the_video_a_frame_was_cut_from(tmp_path):
    make_layout("hide", tmp_path)
    assert _scenes("hide", tmp_path) == {
        "test-close-ups/1fromGOPR0950": "GOPR0950",
        "test-long-shot/10fromGOPR1062": "GOPR1062",
    }


def test_hazy_renders_of_one_clear_image_share_its_scene(tmp_path):
    make_layout("sots-indoor", tmp_path)  # 1400_1, 1400_2 -> gt 1400; 1401_1 -> gt 1401
    assert _scenes("sots-indoor", tmp_path) == {
        "1400_1": "1400",
        "1400_2": "1400",
        "1401_1": "1401",
    }


def test_an_image_without_sequences_is_its_own_scene(tmp_path):
    make_layout("dpdd", tmp_path)
    scenes = _scenes("dpdd", tmp_path)
    assert scenes == {name: name for name in ("1P0A2", "1P0A10", "1P0A1001")}


def test_synthetic_scenes_are_the_photographs_in_the_manifest(tmp_path):
    build_benchmark(task="rain", out=tmp_path, train_count=0, test_count=6, size_px=32)
    scenes = _scenes("synth-rain", tmp_path)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    photos = sorted(manifest["photos"]["test"])
    assert len(photos) == 2  # the two held-out photographs: 6 pairs are 3 crops of each
    for name, scene in scenes.items():  # the builder names a pair INDEX_PHOTO
        assert scene in photos and name.endswith(f"_{scene}")
    counts = {p: sum(s == p for s in scenes.values()) for p in photos}
    assert counts == {photos[0]: 3, photos[1]: 3}


def test_a_manifest_that_misses_a_pair_is_a_named_error(tmp_path):
    build_benchmark(task="rain", out=tmp_path, train_count=0, test_count=2, size_px=32)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    manifest["samples"] = manifest["samples"][:1]
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(InputError, match="manifest.json: no sample named"):
        open_dataset("synth-rain", tmp_path, split="test")


def test_evaluation_rows_carry_test_set_and_scene(tmp_path):
    build_benchmark(task="rain", out=tmp_path, train_count=0, test_count=4, size_px=32)
    dataset = open_dataset("synth-rain", tmp_path, split="test")
    rows, _ = evaluate(IdentityModel(), dataset, options=EvalOptions(device="cpu", num_workers=0))
    scenes = _scenes("synth-rain", tmp_path)
    assert {row["name"]: row["scene"] for row in rows} == scenes
    assert {row["test_set"] for row in rows} == {"synth-rain/test"}
