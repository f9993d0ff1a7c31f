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

from irnext.models.entries import ModelEntry

ARCHITECTURES: dict = {}  # the architectures are those of variants.py and baselines.py

_EQUAL_COMPUTE = (
    "this suite's miniature configuration, chosen for equal compute with irnext-mini "
    "(MACs at 256 x 256 within 25 %); not a published model"
)

ENTRIES = (
    ModelEntry(
        "irnext-mini",
        "IRNeXt",
        {"num_res": 2, "width": 8, "filter_groups": 2, "pool_sizes": (4, 2)},
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
        "fftformer-mini",
        "fftformer",
        {"dim": 8, "num_blocks": [1, 1, 1], "num_refinement_blocks": 1},
        task="test",
        source="Kong et al., CVPR 2023 architecture (spandrel)",
        assumption=_EQUAL_COMPUTE,
    ),
)
