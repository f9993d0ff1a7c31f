"""Data that cannot be paired unambiguously, suspicious bit depths, NaN images."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
import torch
from PIL import Image

from irnext import create_model, restore
from irnext.cli import main
from irnext.data import open_dataset, read_image
from irnext.data.images import BitDepthWarning, encode_png16
from irnext.errors import InputError
from irnext.metrics import score_batch


def _png(path, pixels):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path)


def _pair_folders(root, names=("0001", "0002")):
    rng = np.random.default_rng(0)
    for name in names:
        for side in ("input", "target"):
            _png(root / "test" / side / f"{name}.png", rng.integers(0, 256, (8, 8, 3), np.uint8))


def test_two_inputs_with_one_stem_are_named(tmp_path):
    _pair_folders(tmp_path)
    _png(tmp_path / "test" / "input" / "0001.jpg", np.zeros((8, 8, 3), np.uint8))
    with pytest.raises(InputError) as caught:
        open_dataset("synth-haze", tmp_path)
    message = str(caught.value)
    assert "1 ambiguous input image(s)" in message
    assert "input/0001.jpg and " in message and "input/0001.png share one name" in message


def test_a_stray_sub_folder_input_for_a_top_level_target_is_named(tmp_path):
    _pair_folders(tmp_path)
    _png(tmp_path / "test" / "input" / "old" / "0002.png", np.zeros((8, 8, 3), np.uint8))
    with pytest.raises(InputError) as caught:
        open_dataset("synth-haze", tmp_path)
    message = str(caught.value)
    assert "input/0002.png and " in message and "input/old/0002.png both pair with" in message
    assert "target/0002.png" in message


def test_two_targets_with_one_stem_are_named(tmp_path):
    _pair_folders(tmp_path)
    _png(tmp_path / "test" / "target" / "0001.bmp", np.zeros((8, 8, 3), np.uint8))
    with pytest.raises(InputError, match="two target files share the name '0001'"):
        open_dataset("synth-haze", tmp_path)


def test_many_inputs_per_target_stay_allowed_where_the_layout_says_so(tmp_path):
    # SOTS: several hazy versions (1400_1, 1400_2) of one clear image 1400.
    rng = np.random.default_rng(1)
    for name in ("1400_1", "1400_2"):
        _png(tmp_path / "hazy" / f"{name}.png", rng.integers(0, 256, (8, 8, 3), np.uint8))
    _png(tmp_path / "gt" / "1400.png", rng.integers(0, 256, (8, 8, 3), np.uint8))
    assert len(open_dataset("sots-indoor", tmp_path)) == 2


def test_a_16_bit_file_of_8_bit_values_is_warned_about_by_name(tmp_path):
    path = tmp_path / "dark.png"
    values = np.random.default_rng(2).integers(0, 256, (4, 5, 3)).astype(np.uint16)
    path.write_bytes(encode_png16(values))
    with pytest.warns(BitDepthWarning, match="dark.png: a 16-bit image whose values are all"):
        image = read_image(path)
    np.testing.assert_array_equal(image, values / np.float32(65535))  # read as stored
    full = values * 257  # the same picture spread over 16 bits: no warning
    path.write_bytes(encode_png16(full))
    with warnings.catch_warnings():
        warnings.simplefilter("error", BitDepthWarning)
        read_image(path)


def test_inspect_reports_colour_modes_and_every_conversion(tmp_path, capsys):
    rng = np.random.default_rng(3)
    root = tmp_path / "set"
    _png(root / "test" / "input" / "a.png", rng.integers(0, 256, (8, 8), np.uint8))  # gray
    _png(root / "test" / "target" / "a.png", rng.integers(0, 256, (8, 8, 4), np.uint8))  # RGBA
    palette = Image.fromarray(rng.integers(0, 256, (8, 8, 3), np.uint8)).quantize(16)
    palette.save(root / "test" / "input" / "b.png")
    (root / "test" / "target" / "b.png").write_bytes(
        encode_png16(rng.integers(0, 256, (8, 8, 3)).astype(np.uint16))  # 8-bit values
    )
    assert main(["data", "inspect", "synth-haze", str(root)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["colour_modes"] == {
        "input": {"L 8-bit": 1, "P 4-bit": 1},  # 16 colours: 4-bit palette indices
        "target": {"RGB 16-bit": 1, "RGBA 8-bit": 1},
    }
    conversions = {step: entry["count"] for step, entry in report["conversions"].items()}
    assert conversions == {
        "16-bit scaled by 1/65535": 1,
        "alpha dropped": 1,
        "gray->RGB": 1,
        "palette->RGB": 1,
    }
    assert report["conversions"]["gray->RGB"]["first"] == [str(root / "test/input/a.png")]
    assert len(report["warnings"]) == 1 and "target/b.png: a 16-bit image" in report["warnings"][0]


def test_nan_and_inf_images_are_refused_by_restore_and_the_metrics():
    model = create_model("irnext-test", num_res=1, width=8, filter_groups=2)
    batch = torch.rand(3, 3, 64, 64)
    batch[1, 0, 5, 5] = float("nan")
    batch[2, 2, 0, 0] = float("inf")
    with pytest.raises(InputError, match=r"image\(s\) \[1, 2\] of the batch"):
        restore(model, batch)
    with pytest.raises(InputError, match="NaN or infinite values in the image"):
        restore(model, batch[1])
    clean = torch.rand(3, 3, 16, 16)
    bad = clean.clone()
    bad[0, 1, 2, 3] = float("nan")
    for role, pair in (("prediction", (bad, clean)), ("target", (clean, bad))):
        message = rf"{role} has NaN or infinite values in image\(s\) \[0\]"
        with pytest.raises(InputError, match=message):
            score_batch(*pair, protocol="basicsr_rgb")
