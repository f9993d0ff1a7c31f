"""The clean photographs of the offline benchmark: colour photographs shipped inside installed
packages (scikit-image's data folder, matplotlib's sample data), so no download is needed.

Split by scene, never by crop: test scenes never appear in training. The motorcycle stereo pair
is one scene; its left view ships with a measured disparity map (Middlebury 2014,
`motorcycle_disp.npz`), which gives that photograph a real depth for haze and defocus; the right
view is left out because its disparity is not shipped and it would duplicate the test scene.
Charts, microscopy, astronomy and textures in those folders are not natural scenes and are not
used.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import ndimage

from irnext.data.images import read_image


@dataclass(frozen=True)
class Photo:
    name: str
    package: str  # "skimage" or "matplotlib"
    file: str
    split: str  # "train" | "test"
    disparity_file: str | None = None


PHOTOS = (
    Photo("astronaut", "skimage", "astronaut.png", "train"),
    Photo("chelsea", "skimage", "chelsea.png", "train"),
    Photo("coffee", "skimage", "coffee.png", "train"),
    Photo("grace_hopper", "matplotlib", "sample_data/grace_hopper.jpg", "train"),
    Photo("rocket", "skimage", "rocket.jpg", "test"),
    Photo("motorcycle", "skimage", "motorcycle_left.png", "test", "motorcycle_disp.npz"),
)


def _package_folder(package: str) -> Path:
    if package == "skimage":
        import skimage

        return Path(skimage.__file__).parent / "data"
    import matplotlib

    return Path(matplotlib.get_data_path())


def photo_path(photo: Photo) -> Path:
    return _package_folder(photo.package) / photo.file


def photos_for(split: str) -> list[Photo]:
    return [photo for photo in PHOTOS if photo.split == split]


def load_photo(photo: Photo) -> tuple[np.ndarray, np.ndarray | None]:
    """(sRGB float32 HxWx3, depth in [0, 1] with 0 nearest, or None without measured depth)."""
    image = read_image(photo_path(photo))
    if photo.disparity_file is None:
        return image, None
    disparity = np.load(_package_folder(photo.package) / photo.disparity_file)["arr_0"]
    return image, disparity_to_depth(disparity)


def disparity_to_depth(disparity: np.ndarray) -> np.ndarray:
    """Relative depth in [0, 1] from a disparity map (depth ~ 1 / disparity).

    Unmatched pixels (inf or non-positive in the Middlebury maps) take the value of the nearest
    valid pixel, then the map is smoothed a little so occlusion holes leave no seams.
    """
    valid = np.isfinite(disparity) & (disparity > 0)
    _, (rows, cols) = ndimage.distance_transform_edt(~valid, return_indices=True)
    filled = disparity[rows, cols]
    depth = 1.0 / filled
    depth = ndimage.gaussian_filter(depth, sigma=2.0)
    depth -= depth.min()
    return (depth / depth.max()).astype(np.float32)
