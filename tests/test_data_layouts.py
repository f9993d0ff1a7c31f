"""Every named layout loads its miniature copy, with each dataset's quirks."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from irnext.data import dataset_info, list_datasets, open_dataset, read_image
from irnext.data.images import encode_png16
from irnext.errors import InputError
from tests._data_helpers import LAYOUT_FILES, make_layout

INTERFACE_NAMES = [
    "its-train",
    "ots-train",
    "sots-indoor",
    "sots-outdoor",
    "haze4k",
    "gopro",
    "hide",
    "realblur-j",
    "realblur-r",
    "dpdd",
    "rain13k",
    "test100",
    "rain100h",
    "rain100l",
    "test2800",
    "test1200",
    "csd",
    "srrs",
    "snow100k",
    "synth-haze",
    "synth-motion-blur",
    "synth-defocus",
    "synth-rain",
    "synth-snow",
]


def test_every_agreed_dataset_is_listed_with_valid_info():
    assert list_datasets() == INTERFACE_NAMES
    for name in INTERFACE_NAMES:
        info = dataset_info(name)
        assert info.task in {"dehaze", "desnow", "motion_deblur", "defocus_deblur", "derain"}
        assert info.protocol in {
            "dehaze_pooled",
            "dehaze_pooled_release",
            "matlab_rgb3d",
            "realblur_aligned",
            "matlab_y",
            "dpdd_float",
        }
        assert info.default_split in info.splits
        assert "ROOT" in info.layout_help


@pytest.mark.parametrize("name", sorted(LAYOUT_FILES))
def test_layout_finds_every_pair_and_reads_the_right_files(name, tmp_path):
    pairs = make_layout(name, tmp_path)
    split = LAYOUT_FILES[name][0]
    dataset = open_dataset(name, tmp_path, split=split)
    found = {
        (
            p.input_path.relative_to(tmp_path).as_posix(),
            p.target_path.relative_to(tmp_path).as_posix(),
        )
        for p in dataset.pairs
    }
    assert found == set(pairs)
    assert len({p.name for p in dataset.pairs}) == len(pairs)
    for index, pair in enumerate(dataset.pairs):
        sample = dataset[index]
        assert sample["name"] == pair.name
        assert sample["input"].dtype == sample["target"].dtype == torch.float32
        assert sample["input"].shape == sample["target"].shape == (3, 20, 24)
        expected = read_image(pair.input_path).transpose(2, 0, 1)
        np.testing.assert_array_equal(sample["input"].numpy(), expected)


def test_sots_indoor_crops_the_ground_truth_border(tmp_path):
    make_layout("sots-indoor", tmp_path)
    dataset = open_dataset("sots-indoor", tmp_path)
    full = np.asarray(Image.open(dataset.pairs[0].target_path), dtype=np.float32) / 255
    np.testing.assert_array_equal(
        dataset[0]["target"].numpy().transpose(1, 2, 0), full[10:-10, 10:-10]
    )


def test_gopro_reads_blur_not_blur_gamma(tmp_path):
    make_layout("gopro", tmp_path)
    dataset = open_dataset("gopro", tmp_path, split="test")
    assert all(p.input_path.parent.name == "blur" for p in dataset.pairs)


@pytest.mark.parametrize("sides", [("blur",), ("blur_gamma", "sharp")])
def test_gopro_scene_without_a_blur_sharp_pair_is_an_error_not_a_smaller_set(tmp_path, sides):
    # A partly extracted download: one scene lacks its sharp/ (or has only the gamma blur).
    make_layout("gopro", tmp_path)
    scene = tmp_path / "test" / "GOPR0868_11_00"
    for side in sides:
        (scene / side).mkdir(parents=True)
        Image.fromarray(np.zeros((8, 8, 3), dtype=np.uint8)).save(scene / side / "000001.png")
    with pytest.raises(InputError, match="without a .*pair") as error:
        open_dataset("gopro", tmp_path, split="test")
    assert "GOPR0868_11_00" in str(error.value) and "GOPR0384_11_00" not in str(error.value)


def test_dpdd_reads_16_bit_and_assigns_groups_from_one_based_indices(tmp_path):
    make_layout("dpdd", tmp_path)
    raw = np.random.default_rng(3).integers(0, 65536, (20, 24, 3), dtype=np.uint16)
    (tmp_path / "test_c/source/1P0A2.png").write_bytes(encode_png16(raw))
    np.save(tmp_path / "indoor.npy", np.array([1, 3]))  # 1-based, natural-sorted list
    (tmp_path / "outdoor.txt").write_text("1P0A10\n")
    dataset = open_dataset(
        "dpdd",
        tmp_path,
        group_lists={"indoor": tmp_path / "indoor.npy", "outdoor": tmp_path / "outdoor.txt"},
    )
    assert [p.name for p in dataset.pairs] == ["1P0A2", "1P0A10", "1P0A1001"]
    assert [p.group for p in dataset.pairs] == ["indoor", "outdoor", "indoor"]
    assert dataset.group_indices() == {"indoor": [0, 2], "outdoor": [1]}
    expected = raw.transpose(2, 0, 1).astype(np.float32) / 65535.0
    np.testing.assert_array_equal(dataset[0]["input"].numpy(), expected)


def test_dpdd_groups_requested_without_lists_fail_clearly(tmp_path):
    make_layout("dpdd", tmp_path)
    with pytest.raises(InputError, match="group_lists"):
        open_dataset("dpdd", tmp_path).group_indices()


def test_realblur_scenes_without_list_file_are_refused(tmp_path):
    make_layout("realblur-j", tmp_path)
    (tmp_path / "RealBlur_J_test_list.txt").unlink()
    with pytest.raises(InputError, match="RealBlur_J_test_list.txt"):
        open_dataset("realblur-j", tmp_path)


def test_gopro_flattened_redistribution(tmp_path):
    rng = np.random.default_rng(0)
    for side in ("input", "target"):
        (tmp_path / "test" / side).mkdir(parents=True)
        Image.fromarray(rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)).save(
            tmp_path / "test" / side / "GOPR0384_11_00-000001.png"
        )
    assert len(open_dataset("gopro", tmp_path, split="test")) == 1


def test_unknown_split_and_option_are_errors(tmp_path):
    make_layout("csd", tmp_path)
    with pytest.raises(InputError, match="unknown split"):
        open_dataset("csd", tmp_path, split="val")
    with pytest.raises(InputError, match="unknown option"):
        open_dataset("csd", tmp_path, split="test", colour="yes")


def test_hazy_images_in_part_subfolders_find_their_flat_ground_truth(tmp_path):
    rng = np.random.default_rng(5)
    files = ["hazy/part1/0001_0.8_0.2.jpg", "hazy/part2/0001_0.9_0.1.jpg", "clear/0001.png"]
    for rel in files:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)).save(tmp_path / rel)
    dataset = open_dataset("ots-train", tmp_path)
    assert [p.name for p in dataset.pairs] == ["part1/0001_0.8_0.2", "part2/0001_0.9_0.1"]
    assert {p.target_path.name for p in dataset.pairs} == {"0001.png"}


def test_a_split_smaller_than_its_published_size_warns_and_says_so(tmp_path):
    from irnext.data.inspect import inspect_dataset

    make_layout("gopro", tmp_path)  # 3 of GoPro test's 1,111 pairs
    with pytest.warns(UserWarning, match="holds 3 pairs, its published split 1111"):
        summary = inspect_dataset("gopro", tmp_path, split="test")
    assert summary["expected_pairs"] == 1111 and summary["complete"] is False
    make_layout("haze4k", tmp_path / "haze4k")  # no published size recorded: no claim
    summary = inspect_dataset("haze4k", tmp_path / "haze4k")
    assert summary["expected_pairs"] is None and summary["complete"] is None
