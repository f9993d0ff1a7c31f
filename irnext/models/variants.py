"""Named IRNeXt variants: each is the paper model plus a few overrides
(docs/network.md#per-task-configurations).

Only the dehazing configuration is confirmed by the official release; the others are inferred
and carry an `assumption` that reports print beside their numbers.
"""

from __future__ import annotations

from irnext.models.entries import ModelEntry
from irnext.models.irnext import IRNeXt

ARCHITECTURES = {"IRNeXt": IRNeXt}

_SOURCE = "Cui et al., ICML 2023; official code github c-yn/IRNeXt (MIT)"
# The tiny network with every component present: irnext-test here (CPU tests, smoke runs) and,
# under its own name, the default profile's irnext-mini (irnext.models.minis).
TINY = {"num_res": 2, "width": 8, "filter_groups": 2, "pool_sizes": (4, 2)}
_DEEP = (
    "num_res=14 inferred: 13.21 M params / 114 G thop MACs match the figures cited for "
    "IRNeXt's deblurring model; not confirmed by the paper's text"
)

ENTRIES = (
    ModelEntry(
        "irnext-dehaze",
        "IRNeXt",
        {"num_res": 4},
        task="dehaze",
        source=f"{_SOURCE}, Dehazing release (RESIDE ITS/OTS)",
    ),
    ModelEntry(
        "irnext-desnow",
        "IRNeXt",
        {"num_res": 4},
        task="desnow",
        source=_SOURCE,
        assumption=(
            "num_res=4 inferred from the authors' later ConvIR, which uses its small model here"
        ),
    ),
    ModelEntry(
        "irnext-motion-deblur",
        "IRNeXt",
        {"num_res": 14},
        task="motion_deblur",
        source=_SOURCE,
        assumption=_DEEP,
    ),
    ModelEntry(
        "irnext-defocus-deblur",
        "IRNeXt",
        {"num_res": 14},
        task="defocus_deblur",
        source=_SOURCE,
        assumption=_DEEP + "; the defocus configuration is assumed equal to motion deblurring",
    ),
    ModelEntry(
        "irnext-derain",
        "IRNeXt",
        {"num_res": 14},
        task="derain",
        source=_SOURCE,
        assumption=_DEEP + "; the deraining configuration is assumed equal to motion deblurring",
    ),
    ModelEntry(
        "irnext-test",
        "IRNeXt",
        TINY,
        task="test",
        source="this suite (not a published model)",
    ),
)
