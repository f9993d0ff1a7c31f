"""restore(): any size, batch or single, padding, clamping, tiling and input checks."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import irnext
from irnext.errors import InputError
from irnext.inference import pad_to_multiple


@pytest.fixture(scope="module")
def model() -> nn.Module:
    torch.manual_seed(0)
    return irnext.create_model("irnext-test")


@pytest.mark.parametrize(("h", "w"), [(1, 1), (31, 33), (257, 511)])
def test_any_size_comes_back_in_shape_and_range(model, h, w):
    image = torch.rand(3, h, w)
    out = irnext.restore(model, image)
    assert out.shape == image.shape and out.dtype == image.dtype
    assert torch.isfinite(out).all() and out.min() >= 0 and out.max() <= 1


def test_batch_equals_single_images(model):
    batch = torch.rand(2, 3, 40, 50)
    together = irnext.restore(model, batch)
    for i in range(2):
        torch.testing.assert_close(
            together[i], irnext.restore(model, batch[i]), atol=1e-5, rtol=1e-5
        )


def test_padding_follows_the_official_test_code(model):
    # Official test: reflect-pad bottom/right to the next multiple, take the last output, crop.
    image = torch.rand(1, 3, 37, 45)
    multiple = model.size_multiple
    padded = F.pad(image, (0, 48 - 45, 0, 48 - 37), mode="reflect")
    assert multiple == 16
    model.eval()
    with torch.no_grad():
        expected = model(padded)[-1][..., :37, :45].clamp(0, 1)
    torch.testing.assert_close(irnext.restore(model, image), expected)


def test_pad_to_multiple_meets_minimum_and_replicates_tiny_images():
    x = torch.arange(4.0).reshape(1, 1, 2, 2)
    padded, size = pad_to_multiple(x, 32, 64)
    assert padded.shape[-2:] == (64, 64) and size == (2, 2)
    assert padded[0, 0, -1, -1] == x[0, 0, -1, -1]  # edge replication: reflection impossible
    same, _ = pad_to_multiple(torch.rand(1, 3, 64, 96), 32, 64)
    assert same.shape[-2:] == (64, 96)


def test_runs_in_the_model_dtype_and_restores_train_mode(model):
    double = irnext.create_model("irnext-test").double().train()
    out = irnext.restore(double, torch.rand(3, 20, 20))
    assert out.dtype == torch.float64
    assert double.training


def test_clamps_to_unit_range():
    class Amplify(nn.Module):
        def forward(self, x):
            return [x * 0, 4 * x - 1]

    out = irnext.restore(Amplify(), torch.rand(3, 8, 8))
    assert out.min() == 0 and out.max() == 1


def test_tiling_matches_whole_image_for_a_local_model():
    # A 3x3 convolution sees one pixel around; with overlapping tiles, blending identical
    # predictions must reproduce the whole-image result.
    conv = nn.Conv2d(3, 3, 3, padding=1)
    image = torch.rand(1, 3, 70, 90)
    whole = irnext.restore(conv, image)
    tiled = irnext.restore(conv, image, tile=32, tile_overlap=8)
    interior = (slice(None), slice(None), slice(1, -1), slice(1, -1))
    torch.testing.assert_close(tiled[interior], whole[interior], atol=1e-5, rtol=1e-5)


def test_tiled_irnext_is_close_to_whole(model):
    image = torch.rand(3, 96, 130)
    whole = irnext.restore(model, image)
    tiled = irnext.restore(model, image, tile=64, tile_overlap=16)
    assert tiled.shape == whole.shape
    assert (tiled - whole).abs().mean() < 0.05


@pytest.mark.parametrize(
    ("image", "message"),
    [
        (torch.zeros(3, 8, 8, dtype=torch.uint8), "expected a float tensor"),
        (torch.zeros(4, 8, 8), r"expected shape 3 x H x W .* got \(4, 8, 8\)"),
        (torch.zeros(1, 1, 8, 8), r"got \(1, 1, 8, 8\)"),
        (torch.zeros(8, 8), r"got \(8, 8\)"),
    ],
)
def test_bad_images_are_refused_clearly(model, image, message):
    with pytest.raises(InputError, match=message):
        irnext.restore(model, image)


def test_non_tensor_is_refused(model):
    with pytest.raises(InputError, match="expected a torch.Tensor, got list"):
        irnext.restore(model, [[0.0]])


@pytest.mark.slow
def test_a_4k_image_restores_in_tiles(model):
    image = torch.rand(3, 2160, 3840)
    out = irnext.restore(model, image, tile=1024, tile_overlap=32)
    assert out.shape == image.shape
    assert torch.isfinite(out).all() and out.min() >= 0 and out.max() <= 1


@pytest.mark.parametrize(
    ("tile", "overlap", "message"),
    [
        (0, 0, "tile: expected a side of at least 1 pixel, got 0"),
        (32, 1, "expected 0 or 2 <= overlap"),  # the seam would get 0 / 0
        (32, 32, "expected 0 or 2 <= overlap < tile=32, got 32"),
    ],
)
def test_bad_tiling_is_refused_before_it_makes_nan(model, tile, overlap, message):
    with pytest.raises(InputError, match=message):
        irnext.restore(model, torch.rand(3, 40, 40), tile=tile, tile_overlap=overlap)
