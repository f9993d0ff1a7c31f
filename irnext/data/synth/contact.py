"""Contact sheet: clean photographs over their degraded versions, one PNG per task."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from irnext.data.images import read_image, write_image

_LABEL_PX = 18


def contact_sheet(
    out: str | Path,
    sheet_path: str | Path,
    *,
    split: str = "test",
    columns: int = 4,
    tile_px: int = 192,
) -> Path:
    """Top row clean targets, bottom row degraded inputs, for the first `columns` samples."""
    out, sheet_path = Path(out), Path(sheet_path)
    names = sorted(p.stem for p in (out / split / "input").glob("*.png"))[:columns]
    rows = []
    for side in ("target", "input"):
        tiles = []
        for name in names:
            tile = Image.fromarray(
                np.rint(read_image(out / split / side / f"{name}.png") * 255).astype(np.uint8)
            ).resize((tile_px, tile_px), Image.Resampling.LANCZOS)
            tiles.append(np.asarray(tile))
        rows.append(np.concatenate(tiles, axis=1))
    grid = np.concatenate(rows, axis=0)
    canvas = Image.new("RGB", (grid.shape[1], grid.shape[0] + _LABEL_PX), "white")
    canvas.paste(Image.fromarray(grid), (0, _LABEL_PX))
    caption = f"{out.name}: top clean, bottom degraded ({split} split)"
    ImageDraw.Draw(canvas).text((4, 3), caption, fill="black")
    write_image(sheet_path, np.asarray(canvas))
    return sheet_path
