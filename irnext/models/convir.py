"""ConvIR (Cui, Ren, Cao, Knoll, "Revitalizing Convolutional Network for Image Restoration",
IEEE TPAMI 2024; official code github c-yn/ConvIR, MIT, commit 05dcbff): the same authors'
extension of IRNeXt, and a model of its own, never reported under IRNeXt's name.

Read from the release's `models/ConvIR.py` and `models/layers.py` (the same in every task
folder but for the dilations): the network is IRNeXt's (widths 32 / 64 / 128, SCM / FAM, the
multi-scale module in the last block of each stage, pools 8, 4, 2) with two changes in each
MSM branch, which are IRNeXt's keyword arguments here:
- the branch filter (`MultiShapeKernel`) adds strip attention (a 1 x k then a k x 1 dynamic
  filter, `cubic_attention`) to the square LAM (`strip_attention=True`);
- both are dilated, per branch coarse to fine, (7, 9, 11) in the dehazing, desnowing and motion
  deblurring code and (3, 7, 9) in the deraining code (`filter_dilations`). A checkpoint does
  not record them: they are part of the release's code for each task.
Sizes: S / B / L = 4 / 8 / 16 residual blocks per stage (`version` small / base / large);
5,530,505 / 8,630,665 / 14,830,985 parameters, the README's 5.53 M / 8.63 M / 14.83 M.
"""

from __future__ import annotations

from collections.abc import Sequence

from irnext.models.entries import ModelEntry
from irnext.models.irnext import IRNeXt

SIZES = {"s": 4, "b": 8, "l": 16}  # ConvIR.py: small / base / large -> num_res
DILATIONS = (7, 9, 11)  # Dehazing, Image_desnowing, Motion_Deblurring models/layers.py
DERAIN_DILATIONS = (3, 7, 9)  # Image_deraining/models/layers.py


class ConvIR(IRNeXt):
    """ConvIR: `IRNeXt(strip_attention=True, filter_dilations=...)` (see the module docstring).

    Args (keyword only; defaults = ConvIR-S as released for dehazing):
        num_res: residual blocks per stage: 4 (S), 8 (B) or 16 (L).
        filter_dilations: dilation of the branch filters, coarse to fine.
    """

    def __init__(self, *, num_res: int = 4, filter_dilations: Sequence[int] = DILATIONS) -> None:
        super().__init__(
            num_res=num_res, filter_dilations=tuple(filter_dilations), strip_attention=True
        )


ARCHITECTURES = {"ConvIR": ConvIR}

_SOURCE = "Cui et al., TPAMI 2024; official code github c-yn/ConvIR@05dcbff (MIT)"


def _entry(size: str, task: str, folder: str, dilations: tuple[int, ...] = DILATIONS):
    kwargs = {"num_res": SIZES[size], "filter_dilations": dilations}
    return ModelEntry(
        f"convir-{size}-{task.replace('_', '-')}",
        "ConvIR",
        kwargs,
        task=task,
        source=f"{_SOURCE}, {folder}/models (version {size.upper()})",
    )


ENTRIES = (
    _entry("s", "dehaze", "Dehazing/ITS"),
    _entry("b", "dehaze", "Dehazing/ITS"),
    _entry("l", "dehaze", "Dehazing/ITS"),  # Haze4K only has an L figure
    _entry("s", "desnow", "Image_desnowing"),
    _entry("b", "desnow", "Image_desnowing"),
    _entry("l", "motion_deblur", "Motion_Deblurring"),  # build_net(): ConvIR(num_res=16)
    _entry("l", "derain", "Image_deraining", DERAIN_DILATIONS),  # build_net(): num_res=16
    # Every ConvIR component at 64 px on a CPU (operator and counter tests); not published.
    ModelEntry(
        "convir-test",
        "ConvIR",
        {"num_res": 1, "filter_dilations": (1, 1, 1)},
        task="test",
        source="this suite (not a published model)",
    ),
)
