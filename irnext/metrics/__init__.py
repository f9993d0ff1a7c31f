"""Image-quality metrics under the named protocols of the field (see `protocols`)."""

from irnext.metrics.functional import mae, psnr, rgb_to_y_matlab, ssim, ssim_3d
from irnext.metrics.protocols import (
    PROTOCOLS,
    Protocol,
    get_protocol,
    list_protocols,
    score,
    score_batch,
)

__all__ = [
    "PROTOCOLS",
    "Protocol",
    "get_protocol",
    "list_protocols",
    "mae",
    "psnr",
    "rgb_to_y_matlab",
    "score",
    "score_batch",
    "ssim",
    "ssim_3d",
]
