"""Contact sheet: clean images over their degraded versions, one PNG per task."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from irnext.data.images import read_image, write_image

_LABEL_PX = 18


def _tile(path: Path, tile_px: int) -> np.ndarray:
    pixels = np.rint(read_image(path) * 255).astype(np.uint8)
    return np.asarray(Image.fromarray(pixels).resize((tile_px, tile_px), Image.Resampling.LANCZOS))


def contact_sheet(
    out: str | Path, sheet_path: str | Path, *, per_split: int = 3, tile_px: int = 160
) -> Path:
    """Top row clean targets, bottom row degraded inputs: the first `per_split` test samples,
    then the first `per_split` training samples (more photographs than the test split has)."""
    out, sheet_path = Path(out), Path(sheet_path)
    chosen = [
        (split, path.stem)
        for split in ("test", "train")
        for path in sorted((out / split / "input").glob("*.png"))[:per_split]
    ]
    rows = [
        np.concatenate(
            [_tile(out / split / side / f"{name}.png", tile_px) for split, name in chosen], axis=1
        )
        for side in ("target", "input")
    ]
    grid = np.concatenate(rows, axis=0)
    canvas = Image.new("RGB", (grid.shape[1], grid.shape[0] + _LABEL_PX), "white")
    canvas.paste(Image.fromarray(grid), (0, _LABEL_PX))
    tests = sum(split == "test" for split, _ in chosen)
    caption = (
        f"{out.name}: top clean, bottom degraded; left {tests} test, right "
        f"{len(chosen) - tests} train samples"
    )
    ImageDraw.Draw(canvas).text((4, 3), caption, fill="black")
    write_image(sheet_path, np.asarray(canvas))
    return sheet_path
