"""Image decoding: bit depth from the file, grayscale/alpha handling, broken files."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image
from torchvision.io import ImageReadMode, decode_png

from irnext.data import read_image, write_image
from irnext.data.images import encode_png16, image_bit_depth
from irnext.errors import InputError


def test_8_bit_rgb_is_scaled_by_255(tmp_path):
    pixels = np.random.default_rng(0).integers(0, 256, (5, 7, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(tmp_path / "a.png")
    image = read_image(tmp_path / "a.png")
    assert image.dtype == np.float32 and image.shape == (5, 7, 3)
    np.testing.assert_array_equal(image * 255, pixels.astype(np.float32))


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_16_bit_rgb_png_keeps_all_bits(tmp_path):
    pixels = np.random.default_rng(1).integers(0, 65536, (6, 4, 3), dtype=np.uint16)
    (tmp_path / "a.png").write_bytes(encode_png16(pixels))
    # libpng (via torchvision) is the outside reference for the encoder.
    raw = torch.frombuffer(bytearray((tmp_path / "a.png").read_bytes()), dtype=torch.uint8)
    decoded = decode_png(raw, mode=ImageReadMode.UNCHANGED).permute(1, 2, 0).numpy()
    np.testing.assert_array_equal(decoded, pixels)
    assert image_bit_depth(tmp_path / "a.png") == 16
    np.testing.assert_array_equal(read_image(tmp_path / "a.png"), pixels / np.float32(65535))


def test_16_bit_grayscale_read_through_pillow(tmp_path):
    pixels = np.array([[0, 1000], [40000, 65535]], dtype=np.uint16)
    Image.fromarray(pixels).save(tmp_path / "g.png")
    image = read_image(tmp_path / "g.png")
    assert image.shape == (2, 2, 3)
    np.testing.assert_array_equal(image[:, :, 1], pixels / np.float32(65535))


def test_grayscale_and_rgba_become_rgb(tmp_path):
    rng = np.random.default_rng(2)
    gray = rng.integers(0, 256, (4, 4), dtype=np.uint8)
    rgba = rng.integers(0, 256, (4, 4, 4), dtype=np.uint8)
    Image.fromarray(gray).save(tmp_path / "g.png")
    Image.fromarray(rgba, mode="RGBA").save(tmp_path / "a.png")
    np.testing.assert_array_equal(read_image(tmp_path / "g.png")[:, :, 2] * 255, gray)
    np.testing.assert_array_equal(read_image(tmp_path / "a.png") * 255, rgba[:, :, :3])


@pytest.mark.parametrize("bit_depth", [8, 16])
def test_write_then_read_round_trips_to_the_quantisation_step(tmp_path, bit_depth):
    image = np.random.default_rng(3).random((5, 6, 3)).astype(np.float32)
    write_image(tmp_path / "w.png", torch.from_numpy(image.transpose(2, 0, 1)), bit_depth=bit_depth)
    step = 1 / (2**bit_depth - 1)
    assert np.abs(read_image(tmp_path / "w.png") - image).max() <= step / 2 + 1e-6


def test_corrupt_truncated_and_missing_files_name_the_path(tmp_path):
    pixels = np.random.default_rng(4).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(tmp_path / "full.png")
    data = (tmp_path / "full.png").read_bytes()
    (tmp_path / "cut.png").write_bytes(data[: len(data) // 2])
    (tmp_path / "junk.png").write_bytes(b"not an image at all")
    for name in ("cut.png", "junk.png", "absent.png"):
        with pytest.raises(InputError, match=name):
            read_image(tmp_path / name)
