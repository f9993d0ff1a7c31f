"""Each protocol's decoding (bit depth, float or uint8 scores) against the benchmark's own
images and scripts, stated here by hand with their sources."""

from __future__ import annotations

import math

import numpy as np
import pytest
import skimage.data

from irnext.data import open_dataset
from irnext.data.layouts import dataset_info
from irnext.evaluation import IdentityModel, evaluate
from irnext.metrics import get_protocol, list_protocols, score
from tests._eval_helpers import write_dpdd_layout, write_synth_layout

# dataset -> (bit depth of its image files, whether its official script scores float outputs)
DATASET_FACTS = {
    # RESIDE (Li et al., TIP 2019) ships 8-bit images; DehazeFormer's test.py scores the
    # network's float output before any saving.
    "sots-indoor": (8, True),
    "sots-outdoor": (8, True),
    # GoPro (Nah et al., CVPR 2017) and HIDE (Shen et al., ICCV 2019): 8-bit PNGs; MPRNet's
    # evaluate_GOPRO_HIDE.m reads the saved uint8 PNGs.
    "gopro": (8, False),
    "hide": (8, False),
    # RealBlur (Rim et al., ECCV 2020): 8-bit PNGs; its evaluate_RealBlur.py reads saved images.
    "realblur-j": (8, False),
    # DPDD (Abuolaim & Brown, ECCV 2020): 16-bit PNGs, read by Restormer's
    # test_single_image_defocus_deblur.py with cv2.IMREAD_UNCHANGED / 65535 and scored as floats.
    "dpdd": (16, True),
    # Rain13K test sets (collected by MPRNet): 8-bit; evaluate_PSNR_SSIM.m reads saved PNGs.
    "rain13k": (8, False),
    "rain100h": (8, False),
    # CSD / SRRS / Snow100K: 8-bit images; the IRNeXt release's eval scores float outputs.
    "snow100k": (8, True),
    "csd": (8, True),
}


@pytest.mark.parametrize("dataset", sorted(DATASET_FACTS))
def test_each_dataset_protocol_decodes_as_the_benchmark_stores_and_scores(dataset):
    protocol = get_protocol(dataset_info(dataset).protocol)
    assert (protocol.bit_depth, protocol.scores_floats) == DATASET_FACTS[dataset]


def test_dpdd_with_lpips_decodes_as_dpdd():
    # Restormer's LPIPS evaluation of DPDD reads the same 16-bit images as its PSNR/SSIM.
    assert get_protocol("dpdd_float_lpips").bit_depth == 16 == get_protocol("dpdd_float").bit_depth
    assert get_protocol("dpdd_float_lpips").scores_floats


# dpdd_float_lpips needs LPIPS's published weights (tests/test_lpips.py); RealBlur's ECC is slow.
@pytest.mark.parametrize(
    "protocol", [p for p in list_protocols() if p not in ("dpdd_float_lpips", "realblur_aligned")]
)
def test_scores_floats_says_whether_a_sub_quantum_change_is_seen(protocol):
    # 0.2 / 255 rounds away in uint8: only a protocol that scores floats sees it.
    target = skimage.data.chelsea()[:64, :96] / 255.0
    nudged = np.clip(target + 0.2 / 255 * (target < 0.5), 0, 1)
    finite = math.isfinite(score(nudged, target, protocol=protocol)["psnr_db"])
    assert finite == get_protocol(protocol).scores_floats


def test_saved_restorations_have_the_protocols_bit_depth(tmp_path):
    write_dpdd_layout(tmp_path / "dpdd")
    write_synth_layout(tmp_path / "synth", count=1)
    for name, root, depth in (
        ("dpdd", tmp_path / "dpdd", 16),
        ("synth-rain", tmp_path / "synth", 8),
    ):
        dataset = open_dataset(name, root)
        evaluate(IdentityModel(), dataset, save_dir=tmp_path / name)
        header = next((tmp_path / name).glob("*.png")).read_bytes()[:26]
        # PNG specification: the IHDR chunk's bit depth is byte 24 of the file, colour type 2 (RGB)
        # byte 25.
        assert header[:8] == b"\x89PNG\r\n\x1a\n" and (header[24], header[25]) == (depth, 2)
