"""Datasets of the paper (real layouts) and the offline synthetic benchmark.

`open_dataset(name, root, split=...)` reads any layout listed by `list_datasets()`;
`irnext.data.synth.build_benchmark` writes the synthetic one in the layout the synth-* entries
read.
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
