"""`EvalOptions`: how fast, not what, `evaluate` computes, checked once when built.

Every option changes the device, the batching, the layout or the arithmetic of the forward
pass; none changes which images are scored or how (`protocol` stays an argument of `evaluate`).
bf16 is the one that can move scores, by a checked amount (`irnext.evaluation.precision`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from irnext.errors import InputError
from irnext.inference import check_tiling
from irnext.precisions import BF16_TOLERANCE_DB, check_precision


@dataclass(frozen=True)
class EvalOptions:
    """`device`: None or "auto" (CUDA when present), "cpu", "cuda:N", checked when `evaluate`
    runs. `batch_size` equal-size images per forward pass; `tile` / `tile_overlap` restore large
    images in overlapping windows (`irnext.inference.restore`); `num_workers` decoding processes
    (None: `default_workers(device)`); `dtype` one of `PRECISIONS`: "bf16" stops unless the first
    images score within `bf16_tolerance_db` of fp32; `channels_last` memory layout; `compile`
    runs torch.compile with `compile_backend`."""

    device: Any = None  # str, torch.device or None
    batch_size: int = 1
    tile: int | None = None
    tile_overlap: int = 32
    num_workers: int | None = None
    dtype: str = "fp32"
    bf16_tolerance_db: float = BF16_TOLERANCE_DB
    channels_last: bool = False
    compile: bool = False
    compile_backend: str = "inductor"

    def __post_init__(self) -> None:
        if not _is_int(self.batch_size) or self.batch_size < 1:
            raise InputError(f"batch_size {self.batch_size!r}: expected an integer >= 1")
        workers = self.num_workers
        if workers is not None and (not _is_int(workers) or workers < 0):
            raise InputError(f"num_workers {workers!r}: expected None or an integer >= 0")
        check_precision(self.dtype)
        value = self.bf16_tolerance_db
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
            raise InputError(f"bf16_tolerance_db {value!r}: expected a number of dB >= 0")
        if self.tile is not None:
            if not _is_int(self.tile) or not _is_int(self.tile_overlap):
                raise InputError(f"tile {self.tile!r} / tile_overlap: expected integers")
            check_tiling(self.tile, self.tile_overlap)
        for name in ("channels_last", "compile"):
            if not isinstance(getattr(self, name), bool):
                raise InputError(f"{name} {getattr(self, name)!r}: expected True or False")
        if not isinstance(self.compile_backend, str) or not self.compile_backend:
            raise InputError(f"compile_backend {self.compile_backend!r}: expected a backend name")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
