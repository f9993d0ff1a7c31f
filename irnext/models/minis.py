"""Miniature models of the default (CPU) profile: IRNeXt and the baselines at equal compute.

Each miniature keeps every component of its architecture (IRNeXt's MSM, LAM, frequency
modulation and multi-scale input/output; Restormer's MDTA/GDFN U-Net; NAFNet's gated blocks;
FFTformer's frequency-domain attention and feed-forward) at a width and depth small enough to
train in seconds on a CPU. The configurations are this suite's own, chosen so that every
miniature's MACs at 1 x 3 x 256 x 256 are within 25 % of `irnext-mini`'s (tests/test_minis.py
checks it with torch's counter); they are not the papers' models and their scores say nothing
about the papers' claims, only that each model is trained and scored by the same pipeline.
"""

from __future__ import annotations

from typing import Any

from torch import nn

from irnext.models.baselines import SpandrelBaseline
from irnext.models.entries import ModelEntry
from irnext.models.variants import TINY


def _uformer_windowed(*, win_size: int, **kwargs: Any) -> nn.Module:
    """Uformer padded to a multiple of its window times 16 (four 2x down-samplings).

    NOTE: the official test pads every image into a zero square of a multiple of 128
    (`expand2square`); at a 4-pixel window a multiple of 64 suffices, so 64-pixel training
    crops and 256-pixel test images run unpadded.
    """
    from spandrel.architectures.Uformer import Uformer

    net = Uformer(win_size=win_size, **kwargs)
    return SpandrelBaseline(net=net, size_multiple=16 * win_size, min_size=16 * win_size)


ARCHITECTURES = {"uformer-windowed": _uformer_windowed}  # the others: variants, baselines

_EQUAL_COMPUTE = (
    "this suite's miniature configuration, chosen for equal compute with irnext-mini "
    "(MACs at 256 x 256 within 25 %); not a published model"
)

ENTRIES = (
    ModelEntry(
        "irnext-mini",
        "IRNeXt",
        TINY,  # irnext-test's network under the profile's name
        task="test",
        source="this suite (not a published model): every IRNeXt component, width 8",
        assumption="this suite's miniature configuration for CPU runs; not a published model",
    ),
    ModelEntry(
        "restormer-mini",
        "restormer",
        {"dim": 8, "num_blocks": [1, 1, 1, 2], "num_refinement_blocks": 1, "heads": [1, 1, 2, 2]},
        task="test",
        licence="non-commercial academic licence (official repository)",
        source="Zamir et al., CVPR 2022 architecture (spandrel-extra-arches)",
        assumption=_EQUAL_COMPUTE,
    ),
    ModelEntry(
        "nafnet-mini",
        "nafnet",
        {
            "width": 16,
            "middle_blk_num": 1,
            "enc_blk_nums": [2, 1, 1, 1],
            "dec_blk_nums": [1, 1, 1, 1],
        },
        task="test",
        source="Chen et al., ECCV 2022 architecture (spandrel)",
        assumption=_EQUAL_COMPUTE,
    ),
    ModelEntry(
        "uformer-mini",
        "uformer-windowed",
        {
            "embed_dim": 8,
            "win_size": 4,
            "depths": [1, 1, 1, 1, 1, 1, 1, 1, 1],
            "token_projection": "linear",
            "token_mlp": "leff",
            "modulator": True,
        },
        task="test",
        source="Wang et al., CVPR 2022 architecture (spandrel)",
        assumption=_EQUAL_COMPUTE + "; padded to multiples of 64, not to a 128 square",
    ),
    ModelEntry(
        "fftformer-mini",
        "fftformer",
        {"dim": 8, "num_blocks": [1, 1, 1], "num_refinement_blocks": 1},
        task="test",
        source="Kong et al., CVPR 2023 architecture (spandrel)",
        assumption=_EQUAL_COMPUTE + "; ~3x the CPU step time of the others, not in the default",
    ),
)
