"""realblur_aligned: ECC recovers known homographies; masked scores follow RealBlur's formulas."""

from __future__ import annotations

import math

import numpy as np
import pytest
import skimage.data
import torch
from skimage.metrics import structural_similarity
from skimage.transform import ProjectiveTransform, warp

from irnext.metrics import score
from irnext.metrics.realblur import ecc_homography, masked_scores

# Maps target pixels to prediction pixels: a 1.5 px shift, 1% zoom, shear and perspective.
H_TRUE = np.array([[1.01, 0.01, 1.5], [-0.008, 0.995, -1.2], [1e-5, -2e-5, 1.0]])
TOP, LEFT, HEIGHT, WIDTH = 80, 120, 160, 200
PHOTO = skimage.data.astronaut()[TOP : TOP + HEIGHT, LEFT : LEFT + WIDTH] / 255.0


def _misaligned() -> np.ndarray:
    """prediction(H_TRUE x) = PHOTO(x), drawn by scikit-image (an outside implementation) on
    the whole photograph and then cropped, so no border content is invented."""
    shift = np.array([[1, 0, LEFT], [0, 1, TOP], [0, 0, 1.0]])
    whole = shift @ H_TRUE @ np.linalg.inv(shift)
    photo = skimage.data.astronaut() / 255.0
    warped = warp(photo, ProjectiveTransform(np.linalg.inv(whole)), order=3)
    return warped[TOP : TOP + HEIGHT, LEFT : LEFT + WIDTH]


def _grey(image: np.ndarray) -> torch.Tensor:
    grey = image @ np.array([0.299, 0.587, 0.114])
    return torch.from_numpy(grey)[None, None]


@pytest.mark.slow
def test_ecc_recovers_a_known_homography():
    found = ecc_homography(_grey(PHOTO), _grey(_misaligned()))[0].numpy()
    w, h = WIDTH - 1, HEIGHT - 1
    corners = np.array([[0, 0, 1], [w, 0, 1], [0, h, 1], [w, h, 1]], dtype=float).T

    def project(h):
        p = h @ corners
        return p[:2] / p[2]

    # Eight parameters estimated from a 160 x 200 crop leave a few hundredths of a pixel at the
    # corners (a 320 x 400 crop leaves under 0.01 px): sub-pixel, but not exact.
    assert np.abs(project(found) - project(H_TRUE)).max() < 0.1


@pytest.mark.slow
def test_alignment_lifts_psnr_of_a_misaligned_copy_and_matches_intensity():
    prediction = _misaligned()
    plain = score(prediction, PHOTO, protocol="basicsr_rgb")
    aligned = score(prediction, PHOTO, protocol="realblur_aligned")
    assert plain["psnr_db"] < 25 and aligned["psnr_db"] > 35 and aligned["ssim"] > 0.98
    darker = score(PHOTO * 0.8, PHOTO, protocol="realblur_aligned")
    assert darker["psnr_db"] > 45  # only uint8 rounding of the scaled copy is left


def test_identical_images_score_as_perfect():
    small = PHOTO[:48, :64]
    result = score(small, small, protocol="realblur_aligned")
    assert result["psnr_db"] > 100 and result["ssim"] == pytest.approx(1.0, abs=1e-9)


def test_masked_scores_follow_realblur_formulas_written_with_skimage():
    rng = np.random.default_rng(0)
    target = PHOTO.copy()
    prediction = np.clip(target + rng.normal(0, 0.03, target.shape), 0, 1)
    mask = np.zeros_like(target)
    mask[7:150, 3:191] = 1.0  # the part of the frame the warp keeps
    x, z = target * mask, prediction * mask
    # RealBlur compute_psnr / compute_ssim, written out with NumPy and scikit-image.
    psnr = 10 * math.log10(1 / (np.sum((x - z) ** 2) / np.sum(mask)))
    _, ssim_map = structural_similarity(
        x,
        z,
        channel_axis=2,
        gaussian_weights=True,
        use_sample_covariance=False,
        data_range=1.0,
        full=True,
    )
    inner = mask[5:-5, 5:-5]
    ssim = np.mean((ssim_map[5:-5, 5:-5] * inner).sum((0, 1)) / inner.sum((0, 1)))

    def batch(a):
        return torch.from_numpy(a).permute(2, 0, 1)[None]

    result = masked_scores(batch(z), batch(x), batch(mask))
    assert result["psnr_db"].item() == pytest.approx(psnr, abs=1e-9)
    assert result["ssim"].item() == pytest.approx(ssim, abs=1e-6)
