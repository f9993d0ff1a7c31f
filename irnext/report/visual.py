"""Visual comparison grid: one test image restored by every model, with a zoomed crop.

Reads results/visual/<task>/: visual.json ({"models": [...], "images": [{"image": name,
"prefix": "K_", "crop": [top, left, size]}, ...]}) and K_input.png, K_target.png, K_<model>.png
per shown image; an older visual.json names one image and its crop at the top level, with
input.png, target.png and <model>.png.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, UnidentifiedImageError

from irnext.errors import InputError
from irnext.image_headers import PILLOW_FORMATS, check_image_file
from irnext.report.figures import plt, save


def _image(path: Path) -> np.ndarray:
    try:
        check_image_file(path)  # format and declared size before Pillow decodes it
        with Image.open(path, formats=PILLOW_FORMATS) as image:
            return np.asarray(image.convert("RGB"))
    except FileNotFoundError:
        raise InputError(f"{path}: missing (listed in its visual.json)") from None
    except (UnidentifiedImageError, OSError) as error:
        raise InputError(f"{path}: not a readable image: {error}") from None


def crop_box(spec: Mapping[str, Any], shape: tuple[int, ...]) -> tuple[int, int, int]:
    """(top, left, size) of the zoom window, checked against the image."""
    box = spec.get("crop", spec.get("crop_box"))
    where = Path(spec["_folder"]) / "visual.json"
    if not (isinstance(box, list) and len(box) == 3 and all(isinstance(v, int) for v in box)):
        raise InputError(f"{where}: 'crop' must be [top, left, size] in pixels, got {box!r}")
    top, left, size = box
    if size < 1 or top < 0 or left < 0 or top + size > shape[0] or left + size > shape[1]:
        raise InputError(f"{where}: crop {box} lies outside the {shape[1]}x{shape[0]} image")
    return top, left, size


def visual_grid(
    spec: Mapping[str, Any], task: str, path: Path, psnr: Mapping[str, float] | None = None
) -> Path:
    """Top row the whole image with the crop outlined, bottom row the crop enlarged."""
    folder, prefix = Path(spec["_folder"]), spec.get("prefix", "")
    panels = [("input", folder / f"{prefix}input.png")]
    panels += [(m, folder / f"{prefix}{m}.png") for m in spec["models"]]
    panels.append(("ground truth", folder / f"{prefix}target.png"))
    images = [(name, _image(p)) for name, p in panels]
    top, left, size = crop_box(spec, images[0][1].shape)
    fig, axes = plt.subplots(2, len(images), figsize=(2.2 * len(images), 4.6), squeeze=False)
    for column, (name, image) in enumerate(images):
        whole, zoom = axes[0, column], axes[1, column]
        whole.imshow(image)
        whole.add_patch(
            plt.Rectangle((left - 0.5, top - 0.5), size, size, fill=False, color="#ffcc00", lw=1.2)
        )
        zoom.imshow(image[top : top + size, left : left + size], interpolation="nearest")
        score = (psnr or {}).get(name)
        whole.set_title(name if score is None else f"{name}\n{score:.2f} dB", fontsize=8)
        whole.axis("off")
        zoom.axis("off")
    image_name = spec.get("image") or spec.get("image_name") or "?"
    fig.suptitle(f"{task}: test image {image_name}", fontsize=9)
    return save(fig, path)
