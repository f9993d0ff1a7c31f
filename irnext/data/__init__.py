"""Datasets of the paper (real layouts) and the offline synthetic benchmark.

`open_dataset(name, root, split=...)` reads any layout listed by `list_datasets()`;
`irnext.data.synth.build_benchmark` writes the synthetic one in the layout the synth-* entries
read.

Decoding: every image goes through Pillow (the one pinned decoder; JPEG decoders differ across
OpenCV builds and SOTS-outdoor inputs are JPEG), except 16-bit colour PNG (DPDD), which Pillow
truncates to 8 bits and which is read with torchvision's libpng binding instead. Pixels are
scaled by the file's own bit depth (255 or 65535); grayscale is repeated to RGB and alpha dropped.
"""

from irnext.data.discover import Pair
from irnext.data.images import read_image, write_image
from irnext.data.inspect import inspect_dataset
from irnext.data.layouts import DatasetInfo, dataset_info, list_datasets
from irnext.data.paired import PairedImageDataset, open_dataset
from irnext.data.transforms import PatchDataset, SeededSampler, random_patch, training_loader

__all__ = [
    "DatasetInfo",
    "Pair",
    "PairedImageDataset",
    "PatchDataset",
    "SeededSampler",
    "dataset_info",
    "inspect_dataset",
    "list_datasets",
    "open_dataset",
    "random_patch",
    "read_image",
    "training_loader",
    "write_image",
]
