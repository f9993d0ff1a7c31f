"""The synthetic benchmark: deterministic, degrading, physically shaped, split by photograph."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest

from irnext.data import open_dataset
from irnext.data.synth import TASK_NAMES, build_benchmark, build_sample
from irnext.data.synth.common import disc_kernel, psnr_db
from irnext.data.synth.defocus import blur_radius_map
from irnext.data.synth.haze import degrade_haze
from irnext.data.synth.motion_blur import shake_trajectory, trajectory_kernel
from irnext.data.synth.photos import PHOTOS, photo_path, photos_for
from irnext.errors import InputError

# Input PSNR of published synthetic sets lies roughly in 10-30 dB (Rain100H ~13, SOTS ~12-20,
# GoPro ~26); a degradation outside 6-42 dB is either destroying or doing nothing.
PSNR_RANGE_DB = (6.0, 42.0)


def _digests(root):
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.mark.parametrize("task", TASK_NAMES)
def test_fixed_seed_gives_identical_files_and_a_loadable_layout(task, tmp_path):
    kwargs = {"task": task, "seed": 5, "train_count": 2, "test_count": 2, "size_px": 48}
    build_benchmark(out=tmp_path / "a", **kwargs)
    build_benchmark(out=tmp_path / "b", **kwargs)
    assert _digests(tmp_path / "a") == _digests(tmp_path / "b")
    build_benchmark(out=tmp_path / "c", **{**kwargs, "seed": 6})
    assert _digests(tmp_path / "a") != _digests(tmp_path / "c")
    dataset = open_dataset(f"synth-{task}", tmp_path / "a", split="test")
    assert len(dataset) == 2 and dataset[0]["input"].shape == (3, 48, 48)
    manifest = json.loads((tmp_path / "a" / "manifest.json").read_text())
    assert {s["name"] for s in manifest["samples"] if s["split"] == "test"} == {
        p.name for p in dataset.pairs
    }


@pytest.mark.parametrize("task", TASK_NAMES)
def test_each_degradation_degrades_within_range_and_keeps_shape(task):
    values = []
    for index, photo in enumerate(PHOTOS):
        clean, degraded, record = build_sample(
            task, photo, seed=0, split="train", index=index, size_px=64
        )
        assert degraded.shape == clean.shape == (64, 64, 3)
        assert degraded.dtype == np.float32
        assert degraded.min() >= 0.0 and degraded.max() <= 1.0
        assert record["degradation"]
        values.append(psnr_db(clean, degraded))
    assert PSNR_RANGE_DB[0] < np.median(values) < PSNR_RANGE_DB[1], values
    assert min(values) > PSNR_RANGE_DB[0] - 3 and max(values) < 60, values


def test_no_test_photograph_in_training(tmp_path):
    train, test = photos_for("train"), photos_for("test")
    assert train and test
    assert not {p.name for p in train} & {p.name for p in test}
    train_bytes = {hashlib.sha256(photo_path(p).read_bytes()).hexdigest() for p in train}
    assert not train_bytes & {hashlib.sha256(photo_path(p).read_bytes()).hexdigest() for p in test}
    manifest = build_benchmark(task="haze", out=tmp_path, train_count=12, test_count=2, size_px=32)
    used = {s["photo"] for s in manifest["samples"] if s["split"] == "train"}
    assert used <= {p.name for p in train}
    assert {s["photo"] for s in manifest["samples"] if s["split"] == "test"} <= {
        p.name for p in test
    }


def test_haze_follows_koschmieder_on_a_flat_scene():
    rng = np.random.default_rng(0)
    clean = np.full((8, 8, 3), 0.2, np.float32)
    depth = np.tile(np.linspace(0, 1, 8, dtype=np.float32), (8, 1))
    hazy, params = degrade_haze(clean, depth, rng)
    # Farther columns move monotonically towards the airlight (brighter than the scene).
    assert np.all(np.diff(hazy[0, :, 0]) > 0)
    assert hazy[0, -1, 0] <= max(params["airlight_srgb"]) + 1e-6


def test_shake_kernels_are_normalised_and_not_all_straight():
    rng = np.random.default_rng(1)
    straightness = []
    for _ in range(20):
        trajectory = shake_trajectory(rng, length_px=20.0)
        kernel = trajectory_kernel(trajectory)
        assert kernel.min() >= 0 and abs(kernel.sum() - 1) < 1e-9
        # Ratio of the kernel's minor to major second moment: 0 for a straight line.
        y, x = np.nonzero(kernel > 0)
        w = kernel[y, x]
        cov = np.cov(np.stack([x, y]), aweights=w)
        eigen = np.linalg.eigvalsh(cov)
        straightness.append(eigen[0] / eigen[1])
    assert max(straightness) > 0.1


def test_disc_psf_and_circle_of_confusion():
    kernel = disc_kernel(5.0)
    assert abs(kernel.sum() - 1) < 1e-12
    area = (kernel > 0).sum()
    assert abs(area - np.pi * 5.5**2) / (np.pi * 5.5**2) < 0.15
    depth = np.linspace(0, 1, 11, dtype=np.float32)[None, :]
    radius = blur_radius_map(depth, focus=0.3, max_radius_px=8.0)
    assert radius[0, 3] == pytest.approx(0.0, abs=1e-6)
    assert radius.max() == pytest.approx(8.0)
    assert np.all(np.diff(radius[0, 3:]) > 0) and np.all(np.diff(radius[0, :4]) < 0)


def test_cli_builds_a_task_with_its_contact_sheet(tmp_path, monkeypatch, capsys):
    import irnext.cli

    monkeypatch.setattr(irnext.cli, "COMMANDS", ("data",))
    out = tmp_path / "rain"
    argv = [
        "data",
        "synth",
        "--task",
        "rain",
        "--out",
        str(out),
        "--train-count",
        "1",
        "--test-count",
        "1",
        "--size",
        "48",
    ]
    assert irnext.cli.main(argv) == 0
    assert json.loads(capsys.readouterr().out)["dataset"] == "synth-rain"
    assert (out / "contact_sheet.png").is_file()
    assert len(open_dataset("synth-rain", out, split="train")) == 1
    assert irnext.cli.main(["data", "synth", "--task", "fog", "--out", str(out)]) == 2
    assert "fog" in capsys.readouterr().err


def test_rebuild_leaves_no_stale_pairs_and_foreign_folders_are_refused(tmp_path):
    build_benchmark(task="snow", out=tmp_path / "s", train_count=3, test_count=2, size_px=32)
    build_benchmark(task="snow", out=tmp_path / "s", train_count=1, test_count=1, size_px=32)
    assert len(open_dataset("synth-snow", tmp_path / "s", split="train")) == 1
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.tex").write_text("keep me")
    with pytest.raises(InputError, match="manifest.json"):
        build_benchmark(task="snow", out=tmp_path / "mine", train_count=1, test_count=1)
    assert (tmp_path / "mine" / "thesis.tex").read_text() == "keep me"
