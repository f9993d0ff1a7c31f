"""Metric protocols checked against outside references: scikit-image, scipy, closed forms."""

from __future__ import annotations

import math

import numpy as np
import pytest
import skimage.data
import torch
from scipy import ndimage
from skimage.metrics import structural_similarity

from irnext.errors import InputError
from irnext.evaluation import json_safe
from irnext.metrics import list_protocols, score, score_batch

RNG = np.random.default_rng(0)
# RealBlur's protocol runs 100 ECC iterations per image: seconds on two shared CPU cores.
# dpdd_float_lpips needs LPIPS's published weights: tests/test_lpips.py runs it on test-made ones.
PROTOCOLS = [
    pytest.param(p, marks=pytest.mark.slow) if p == "realblur_aligned" else p
    for p in list_protocols()
    if p != "dpdd_float_lpips"
]


def _blurred(image: np.ndarray, sigma: float = 2.0) -> np.ndarray:
    out = ndimage.gaussian_filter(image.astype(np.float64), sigma=(sigma, sigma, 0))
    return np.clip(np.round(out), 0, 255).astype(np.uint8)


def _noisy(image: np.ndarray, std: float = 12.0) -> np.ndarray:
    out = image.astype(np.float64) + RNG.normal(0, std, image.shape)
    return np.clip(np.round(out), 0, 255).astype(np.uint8)


def _pairs() -> list[tuple[np.ndarray, np.ndarray]]:
    """Real photographs against degraded copies, and a random pair."""
    photo = skimage.data.astronaut()[100:292, 150:406]
    cat = skimage.data.chelsea()[:160, :200]
    random_a = RNG.integers(0, 256, (48, 64, 3), dtype=np.uint8)
    random_b = RNG.integers(0, 256, (48, 64, 3), dtype=np.uint8)
    return [(_blurred(photo), photo), (_noisy(cat), cat), (random_a, random_b)]


def _closed_form_psnr(a: np.ndarray, b: np.ndarray, peak: float) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return 10 * math.log10(peak**2 / mse)


def _skimage_gaussian(a, b, *, data_range, channel_axis=2):
    return structural_similarity(
        a,
        b,
        gaussian_weights=True,
        sigma=1.5,
        use_sample_covariance=False,
        data_range=data_range,
        channel_axis=channel_axis,
    )


@pytest.mark.parametrize("index", range(3))
def test_basicsr_rgb_matches_skimage_gaussian_ssim_and_closed_form_psnr(index):
    prediction, target = _pairs()[index]
    result = score(prediction, target, protocol="basicsr_rgb")
    assert result["ssim"] == pytest.approx(
        _skimage_gaussian(prediction, target, data_range=255), abs=1e-4
    )
    assert result["psnr_db"] == pytest.approx(_closed_form_psnr(prediction, target, 255), abs=1e-6)


def _matlab_y(image: np.ndarray) -> np.ndarray:
    """MATLAB rgb2ycbcr luma of a uint8 image, rounded, written out by hand."""
    r, g, b = (image[..., c].astype(np.float64) / 255 for c in range(3))
    return np.floor(65.481 * r + 128.553 * g + 24.966 * b + 16 + 0.5)


@pytest.mark.parametrize("index", range(3))
def test_matlab_y_matches_hand_luma_closed_form_psnr_and_skimage_ssim(index):
    prediction, target = _pairs()[index]
    yp, yt = _matlab_y(prediction), _matlab_y(target)
    result = score(prediction, target, protocol="matlab_y")
    assert result["psnr_db"] == pytest.approx(_closed_form_psnr(yp, yt, 255), abs=1e-6)
    expected = _skimage_gaussian(yp, yt, data_range=255, channel_axis=None)
    assert result["ssim"] == pytest.approx(expected, abs=1e-4)


def test_matlab_y_luma_of_primaries_is_the_bt601_table():
    # rgb2ycbcr of pure red/green/blue/white/black on uint8: 81, 145, 41, 235, 16 (MATLAB docs).
    colours = np.array([[[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 255], [0, 0, 0]]])
    assert _matlab_y(colours.astype(np.uint8)).ravel().tolist() == [81, 145, 41, 235, 16]
    from irnext.metrics import rgb_to_y_matlab

    luma = rgb_to_y_matlab(torch.from_numpy(colours / 255.0).permute(2, 0, 1)[None])
    assert torch.floor(luma + 0.5).ravel().tolist() == [81, 145, 41, 235, 16]


@pytest.mark.parametrize("index", range(3))
def test_dpdd_float_matches_skimage_defaults_psnr_and_mae(index):
    prediction, target = (im.astype(np.float32) / 255 for im in _pairs()[index])
    result = score(prediction, target, protocol="dpdd_float")
    expected = structural_similarity(prediction, target, data_range=1.0, channel_axis=2)
    assert result["ssim"] == pytest.approx(expected, abs=1e-4)
    assert result["psnr_db"] == pytest.approx(_closed_form_psnr(prediction, target, 1.0), abs=1e-4)
    assert result["mae"] == pytest.approx(np.abs(prediction - target.astype(np.float64)).mean())


def _direct_ssim_3d(a: np.ndarray, b: np.ndarray) -> float:
    """MATLAB-style 3-D SSIM written with scipy.ndimage: 11x11x11 Gaussian (sigma 1.5, radius
    5), replicate padding ('nearest'), 'same'-size map averaged over every voxel."""
    x, y = a.astype(np.float64) / 255, b.astype(np.float64) / 255

    def f(v):
        return ndimage.gaussian_filter(v, sigma=1.5, mode="nearest", truncate=5 / 1.5)

    c1, c2 = 0.01**2, 0.03**2
    mx, my = f(x), f(y)
    vx, vy, cxy = f(x * x) - mx**2, f(y * y) - my**2, f(x * y) - mx * my
    ssim_map = ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx**2 + my**2 + c1) * (vx + vy + c2))
    return float(ssim_map.mean())


@pytest.mark.parametrize("index", range(3))
def test_matlab_rgb3d_matches_direct_3d_gaussian_reference(index):
    prediction, target = _pairs()[index]
    result = score(prediction, target, protocol="matlab_rgb3d")
    assert result["ssim"] == pytest.approx(_direct_ssim_3d(prediction, target), abs=1e-4)
    assert result["psnr_db"] == pytest.approx(_closed_form_psnr(prediction, target, 255), abs=1e-6)


@pytest.mark.parametrize("sigma", [0.5, 1.0, 2.0])
def test_3d_ssim_scores_blurred_photographs_above_per_channel_ssim(sigma):
    # docs/protocols.md: per-channel 2-D SSIM of good restorations is ~0.01-0.02 lower than MATLAB's
    # 3-D SSIM; the gap widens with blur, since the colour axis keeps variance that blur removes.
    photo = skimage.data.coffee()[:200, :256]
    blurred = _blurred(photo, sigma=sigma)
    ssim_3d = score(blurred, photo, protocol="matlab_rgb3d")["ssim"]
    ssim_2d = score(blurred, photo, protocol="basicsr_rgb")["ssim"]
    assert ssim_3d > ssim_2d + 0.005
    if sigma == 0.5:
        assert ssim_3d - ssim_2d < 0.05


def test_dehaze_pooled_matches_block_mean_then_skimage():
    photo = skimage.data.astronaut()  # 512 x 512: DehazeFormer pools by r = round(512/256) = 2
    prediction = _noisy(photo).astype(np.float32) / 255
    target = photo.astype(np.float32) / 255

    def pool(im):
        return im.reshape(256, 2, 256, 2, 3).mean(axis=(1, 3))

    result = score(prediction, target, protocol="dehaze_pooled")
    expected = _skimage_gaussian(pool(prediction), pool(target), data_range=1.0)
    assert result["ssim"] == pytest.approx(expected, abs=1e-4)
    assert result["psnr_db"] == pytest.approx(_closed_form_psnr(prediction, target, 1.0), abs=1e-4)
    unpooled = _skimage_gaussian(prediction, target, data_range=1.0)
    assert result["ssim"] > unpooled + 0.05  # pooling averages the noise away


def _adaptive_mean_pool(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """Adaptive average pooling written from its definition: output cell i averages input rows
    floor(i * H / h) to ceil((i + 1) * H / h) - 1 (likewise columns)."""

    def bins(size, out):
        return [(i * size // out, -(-(i + 1) * size // out)) for i in range(out)]

    return np.array(
        [
            [image[r0:r1, c0:c1].mean(axis=(0, 1)) for c0, c1 in bins(image.shape[1], width)]
            for r0, r1 in bins(image.shape[0], height)
        ]
    )


def test_release_pooling_uses_the_padded_sides_of_the_irnext_eval():
    from irnext.metrics.functional import release_padded_side

    # (h + 32) // 32 * 32, by hand: a side that is already a multiple still gains 32.
    assert [release_padded_side(s) for s in (1, 31, 460, 480, 620)] == [32, 32, 480, 512, 640]
    photo = skimage.data.astronaut()[:460, :500]  # SOTS-indoor-like 460 rows
    prediction = _noisy(photo).astype(np.float64) / 255
    target = photo.astype(np.float64) / 255
    release = score(prediction, target, protocol="dehaze_pooled_release")
    dehazeformer = score(prediction, target, protocol="dehaze_pooled")
    # Release: H' 480, W' 512, r = round(480 / 256) = 2 -> 240 x 256 (an up-sampling of the
    # 460 rows); DehazeFormer: r = round(460 / 256) = 2 -> 230 x 250.
    for result, (height, width) in ((release, (240, 256)), (dehazeformer, (230, 250))):
        pooled = [_adaptive_mean_pool(im, height, width) for im in (prediction, target)]
        expected = _skimage_gaussian(*pooled, data_range=1.0)
        assert result["ssim"] == pytest.approx(expected, abs=1e-4)
    assert release["psnr_db"] == pytest.approx(dehazeformer["psnr_db"], abs=1e-9)
    assert abs(release["ssim"] - dehazeformer["ssim"]) > 1e-3  # the protocols do differ


def test_non_finite_predictions_and_bad_borders_are_errors_not_scores():
    target = torch.rand(3, 3, 32, 32)
    prediction = target.clone()
    prediction[1, 0, 5, 5] = float("nan")
    with pytest.raises(InputError, match=r"NaN or infinite values in image\(s\) \[1\]"):
        score_batch(prediction, target, protocol="dehaze_pooled")
    prediction[1, 0, 5, 5] = float("inf")
    with pytest.raises(InputError, match="prediction has NaN or infinite"):
        score_batch(prediction, target, protocol="basicsr_rgb")
    for border in (-1, 16):
        with pytest.raises(InputError, match=f"crop_border {border} must be"):
            score_batch(target, target, protocol="basicsr_rgb", crop_border=border)


def test_luma_psnr_ignores_chroma_only_changes_that_rgb_psnr_sees():
    photo = skimage.data.chelsea()[:96, :128].astype(np.float64)
    # Move along a direction with zero BT.601 luma weight: Y unchanged, RGB changed.
    direction = np.cross([65.481, 128.553, 24.966], [1.0, 0.0, 0.0])
    direction *= 6 / np.abs(direction).max()
    shifted = np.clip(np.round(photo + direction), 0, 255).astype(np.uint8)
    photo = photo.astype(np.uint8)
    rgb = score(shifted, photo, protocol="basicsr_rgb")["psnr_db"]
    luma = score(shifted, photo, protocol="matlab_y")["psnr_db"]
    assert rgb < 40 and luma > rgb + 10


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_identical_images_give_infinite_psnr_and_unit_ssim(protocol):
    photo = skimage.data.chelsea()[:64, :96]
    result = score(photo, photo, protocol=protocol)
    if protocol == "realblur_aligned":  # warped by a computed (identity) homography: finite
        assert result["psnr_db"] > 100
        return
    assert result["psnr_db"] == math.inf
    assert result["ssim"] == pytest.approx(1.0, abs=1e-6)
    assert json_safe(result["psnr_db"]) is None  # how summaries store it: null, not a number
    if "mae" in result:
        assert result["mae"] == 0.0


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_uint8_and_equal_float_inputs_score_alike_and_batches_match_singles(protocol):
    pairs = [
        (_noisy(t), t) for t in (skimage.data.chelsea()[:64, :80], skimage.data.coffee()[:64, :80])
    ]
    singles = [score(p, t, protocol=protocol) for p, t in pairs]
    as_float = [score(p / 255.0, t / 255.0, protocol=protocol) for p, t in pairs]
    stack = [torch.from_numpy(np.stack(s)).permute(0, 3, 1, 2) for s in zip(*pairs, strict=True)]
    batched = score_batch(*stack, protocol=protocol)
    for single, flt, bat in zip(singles, as_float, batched, strict=True):
        for key, value in single.items():
            assert flt[key] == pytest.approx(value, abs=1e-5)
            assert bat[key] == pytest.approx(value, abs=1e-6)


def test_data_range_is_never_guessed_and_bad_inputs_are_named():
    image = skimage.data.chelsea()[:32, :32].astype(np.float32)  # 0-255 floats
    with pytest.raises(InputError, match="outside"):
        score(image, image, protocol="basicsr_rgb")
    with pytest.raises(InputError, match="H x W x 3"):
        score(image[..., 0] / 255, image[..., 0] / 255, protocol="basicsr_rgb")
    with pytest.raises(InputError, match="unknown metric protocol 'psnr'"):
        score(image / 255, image / 255, protocol="psnr")


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_cuda_batches_score_as_the_cpu_does(protocol):
    pairs = [
        (_noisy(t), t)
        for t in (skimage.data.astronaut()[:256, :320], skimage.data.coffee()[:256, :320])
    ]
    stack = [torch.from_numpy(np.stack(s)).permute(0, 3, 1, 2) for s in zip(*pairs, strict=True)]
    on_cpu = score_batch(*stack, protocol=protocol)
    on_gpu = score_batch(*(t.cuda() for t in stack), protocol=protocol)
    for cpu, gpu in zip(on_cpu, on_gpu, strict=True):
        for key, value in cpu.items():
            assert gpu[key] == pytest.approx(value, abs=1e-5)
