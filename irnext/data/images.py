"""Reading and writing images: one decoder, bit depth taken from the file.

Every image is decoded with Pillow, the one pinned decoder of this suite: JPEG decoders differ
across OpenCV builds and SOTS-outdoor inputs are JPEG (docs/datasets.md), so a single
library keeps the pixels identical everywhere. Pillow reads 16-bit grayscale PNG but truncates
16-bit *colour* PNG to 8 bits; those files (DPDD is distributed as 16-bit RGB PNG) are decoded with
torchvision's libpng binding instead. PNG is lossless, so the decoder choice does not change a
single value there. Writing 16-bit PNG uses the small encoder below (Pillow cannot write it).
EXIF orientation is deliberately not applied: pairs are stored pixel-aligned as the files are.
Every file is checked before a decoder sees it (`irnext.image_headers`: format, declared size,
the structure of a 16-bit PNG).
"""

from __future__ import annotations

import io
import struct
import warnings
import zlib
from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

from irnext.errors import InputError
from irnext.image_headers import PILLOW_FORMATS, PNG_SIGNATURE, check_image_file
from irnext.io import atomic_write_bytes

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff")
# Pillow modes converted to RGB by dropping alpha/palette; alpha is dropped, not composited,
# as OpenCV's default colour read does in the research code that produced published numbers.
_TO_RGB = {"RGB", "RGBA", "RGBX", "P", "PA", "LA", "CMYK", "YCbCr", "1", "L", "La", "RGBa"}
_PNG_MODES = {0: "L", 2: "RGB", 3: "P", 4: "LA", 6: "RGBA"}  # IHDR colour type -> mode
_CONVERSIONS = (  # (stored modes, what reading does to them)
    ({"L", "LA", "La", "1"}, "gray->RGB"),
    ({"P", "PA"}, "palette->RGB"),
    ({"CMYK"}, "CMYK->RGB"),
    ({"YCbCr"}, "YCbCr->RGB"),
    ({"RGBA", "LA", "PA", "La", "RGBa"}, "alpha dropped"),
)


class BitDepthWarning(UserWarning):
    """A file's stored bit depth and its values disagree (e.g. 8-bit data in 16 bits)."""


def is_image_file(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_SUFFIXES


def png_bit_depth(path: str | Path) -> int | None:
    """Bit depth per channel from a PNG's IHDR chunk; None when the file is not a PNG."""
    with open(path, "rb") as handle:
        head = handle.read(26)
    if len(head) < 26 or not head.startswith(PNG_SIGNATURE):
        return None
    return head[24]


def image_bit_depth(path: str | Path) -> int:
    """8 or 16: the bits per channel stored in the file (read from the header only)."""
    depth = png_bit_depth(path)
    if depth is not None:
        return 16 if depth == 16 else 8
    try:
        with Image.open(path, formats=PILLOW_FORMATS) as image:
            return 16 if image.mode.startswith("I;16") else 8
    except (UnidentifiedImageError, OSError) as error:
        raise InputError(
            f"{path}: cannot decode image ({error}); expected PNG/JPEG/BMP/TIFF"
        ) from error


def read_image(path: str | Path) -> np.ndarray:
    """float32 HxWx3 in [0, 1], scaled by the file's own bit depth (255 or 65535).

    Grayscale is repeated to three channels; alpha is dropped. A missing, unreadable or
    truncated file raises `InputError` naming it.
    """
    pixels = read_image_native(path)
    return pixels.astype(np.float32) / np.float32(np.iinfo(pixels.dtype).max)


def read_image_native(path: str | Path) -> np.ndarray:
    """The stored integers, uint8 or uint16 HxWx3 (training crops before converting).

    A 16-bit file whose values all fit in 8 bits is read as it is stored (scaled by 1/65535,
    so nearly black) with a `BitDepthWarning` naming it: it is usually 8-bit data saved into
    a 16-bit container, which the file alone cannot prove.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: image file not found")
    check_image_file(path)  # format, declared size and a 16-bit PNG's structure, undecoded
    try:
        pixels = _read_png16(path) if png_bit_depth(path) == 16 else _read_pillow(path)
    except InputError:
        raise
    except (UnidentifiedImageError, OSError, RuntimeError, SyntaxError, ValueError) as error:
        raise InputError(
            f"{path}: cannot decode image ({error}); expected a complete PNG/JPEG/BMP/TIFF file"
        ) from error
    if pixels.dtype == np.uint16 and pixels.size and int(pixels.max()) <= 255:
        warnings.warn(
            f"{path}: a 16-bit image whose values are all <= 255 (8-bit data in a 16-bit "
            "file?); it is scaled by 1/65535 as stored, so it reads as nearly black",
            BitDepthWarning,
            stacklevel=2,
        )
    return pixels


def colour_conversions(path: str | Path) -> tuple[str, tuple[str, ...]]:
    """(stored colour mode, the conversions reading makes) from the file's header only,
    e.g. ('LA 8-bit', ('gray->RGB', 'alpha dropped')) or ('RGB 16-bit', ('16-bit scaled',))."""
    path = Path(path)
    depth = png_bit_depth(path)
    if depth is not None:  # Pillow reports 16-bit colour PNG as 8-bit RGB: read IHDR
        with open(path, "rb") as handle:
            colour_type = handle.read(26)[25]
        mode = _PNG_MODES.get(colour_type, f"PNG colour type {colour_type}")
    else:
        try:
            with Image.open(path, formats=PILLOW_FORMATS) as image:
                mode = image.mode
        except (UnidentifiedImageError, OSError) as error:
            raise InputError(f"{path}: cannot decode image ({error})") from error
        depth = 16 if mode.startswith("I;16") else 8
        mode = "L" if mode.startswith("I;16") else mode
    steps = [step for modes, step in _CONVERSIONS if mode in modes]
    if depth == 16:
        steps.append("16-bit scaled by 1/65535")
    return f"{mode} {depth}-bit", tuple(steps)


def _read_pillow(path: Path) -> np.ndarray:
    with Image.open(path, formats=PILLOW_FORMATS) as image:
        image.load()  # decodes now, so a truncated file fails here and not later
        if image.mode.startswith("I;16"):
            gray = np.asarray(image).astype(np.uint16)
            return np.repeat(gray[:, :, None], 3, axis=2)
        if image.mode not in _TO_RGB:
            raise InputError(
                f"{path}: unsupported pixel mode {image.mode!r}; expected 8-bit or 16-bit "
                "grayscale or colour"
            )
        return np.asarray(image.convert("RGB"), dtype=np.uint8)


def _read_png16(path: Path) -> np.ndarray:
    from torchvision.io import ImageReadMode, decode_png

    data = torch.frombuffer(bytearray(path.read_bytes()), dtype=torch.uint8)
    with warnings.catch_warnings():
        # torchvision 0.29 announces that its image codecs move to torchcodec; until then
        # it is the installed libpng binding that reads 16-bit colour PNG.
        warnings.simplefilter("ignore", DeprecationWarning)
        chw = decode_png(data, mode=ImageReadMode.UNCHANGED)
    pixels = chw.permute(1, 2, 0).numpy()
    if pixels.shape[2] in (1, 2):  # gray or gray + alpha
        pixels = np.repeat(pixels[:, :, :1], 3, axis=2)
    return np.ascontiguousarray(pixels[:, :, :3]).astype(np.uint16)


def to_hwc_array(image: np.ndarray | torch.Tensor) -> np.ndarray:
    """A float HxWxC (or HxW) array from a CxHxW tensor or an HxWxC / HxW array."""
    if isinstance(image, torch.Tensor):
        image = image.detach().cpu().float()
        if image.ndim == 3:
            image = image.permute(1, 2, 0)
        image = image.numpy()
    array = np.asarray(image)
    if array.dtype == np.uint8:
        return array.astype(np.float32) / 255.0
    if array.dtype == np.uint16:
        return array.astype(np.float32) / 65535.0
    return array.astype(np.float32)


def write_image(path: str | Path, image: np.ndarray | torch.Tensor, *, bit_depth: int = 8) -> None:
    """Write an image in [0, 1] (HxWx3 array or 3xHxW tensor) as 8-bit or 16-bit PNG/JPEG.

    Values are clipped to [0, 1] and rounded to the nearest level. 16-bit needs `.png`.
    """
    path = Path(path)
    if bit_depth not in (8, 16):
        raise InputError(f"bit_depth={bit_depth}: expected 8 or 16")
    array = np.clip(to_hwc_array(image), 0.0, 1.0)
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] != 3):
        raise InputError(f"{path}: expected an HxWx3 or HxW image, got shape {array.shape}")
    if bit_depth == 16:
        if path.suffix.lower() != ".png":
            raise InputError(f"{path}: 16-bit images can only be written as .png")
        atomic_write_bytes(path, encode_png16(np.rint(array * 65535.0).astype(np.uint16)))
        return
    image_format = Image.registered_extensions().get(path.suffix.lower())
    if image_format is None:
        raise InputError(f"{path}: unknown image suffix; expected one of {IMAGE_SUFFIXES}")
    buffer = io.BytesIO()  # encoded in memory, then written atomically
    Image.fromarray(np.rint(array * 255.0).astype(np.uint8)).save(buffer, format=image_format)
    atomic_write_bytes(path, buffer.getvalue())


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def encode_png16(pixels: np.ndarray) -> bytes:
    """A 16-bit PNG (grayscale HxW or RGB HxWx3 uint16), rows unfiltered, zlib level 6."""
    height, width = pixels.shape[:2]
    channels = 1 if pixels.ndim == 2 else pixels.shape[2]
    colour_type = {1: 0, 3: 2}[channels]
    # Contiguous first: a restored 3xHxW tensor arrives as a transposed (strided) HxWx3 view.
    big_endian = np.ascontiguousarray(pixels, dtype=">u2")
    rows = big_endian.view(np.uint8).reshape(height, width * channels * 2)
    raw = np.concatenate([np.zeros((height, 1), np.uint8), rows], axis=1)  # filter type 0
    header = struct.pack(">IIBBBBB", width, height, 16, colour_type, 0, 0, 0)
    return (
        PNG_SIGNATURE
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(raw.tobytes(), 6))
        + _chunk(b"IEND", b"")
    )
