"""Published sizes of the benchmark splits, and the frame size of those whose images share one.

A copy with fewer (or more) pairs than its paper's split scores a different test set: evaluation
records the count it expected and warns. The native resolutions are what latency is measured at
for a dataset (`irnext latency --dataset`), padded to the model's size multiple.

Counts from docs/datasets.md (the papers' dataset tables); the Rain13K test sets are named by
their sizes. Splits whose published size is uncertain (Haze4K, OTS, Rain13K train, Snow100K test
subsets, DPDD train/val) are left out rather than guessed.
"""

from __future__ import annotations

import warnings

EXPECTED_PAIRS: dict[tuple[str, str], int] = {
    ("its-train", "train"): 13_990,  # hazy images (1,399 clear scenes x 10 haze levels)
    ("sots-indoor", "test"): 500,
    ("sots-outdoor", "test"): 500,
    ("gopro", "train"): 2_103,
    ("gopro", "test"): 1_111,
    ("hide", "test"): 2_025,
    ("realblur-j", "test"): 980,
    ("realblur-r", "test"): 980,
    ("dpdd", "test"): 76,  # 37 indoor + 39 outdoor scenes
    ("test100", "test"): 100,
    ("rain100h", "test"): 100,
    ("rain100l", "test"): 100,
    ("test2800", "test"): 2_800,
    ("test1200", "test"): 1_200,
    ("csd", "train"): 2_500,
    ("csd", "test"): 2_000,
    ("srrs", "train"): 2_500,
    ("srrs", "test"): 2_000,
    ("snow100k", "train"): 2_500,
}


def expected_pairs(dataset: str, split: str) -> int | None:
    """The published number of pairs of `dataset`'s `split`, or None where none is recorded."""
    return EXPECTED_PAIRS.get((dataset, split))


def completeness(dataset: str, split: str, found: int) -> dict[str, int | bool | None]:
    """{"expected_pairs", "complete"} for a split holding `found` pairs; warns when it differs."""
    expected = expected_pairs(dataset, split)
    complete = None if expected is None else found == expected
    if complete is False:
        warnings.warn(
            f"dataset '{dataset}' split '{split}' holds {found} pairs, its published split "
            f"{expected}: scores are not comparable with the papers' (a partial copy?)",
            stacklevel=2,
        )
    return {"expected_pairs": expected, "complete": complete}


# Test sets whose images all have one size (height, width). SOTS-indoor: docs/datasets.md;
# GoPro and HIDE: 1280x720 GoPro Hero frames; DPDD: 1680x1120 Canon frames. Sets of mixed sizes
# (SOTS-outdoor, RealBlur, the Rain13K test sets, the snow sets) have none.
NATIVE_RESOLUTION: dict[str, tuple[int, int]] = {
    "sots-indoor": (460, 620),
    "gopro": (720, 1280),
    "hide": (720, 1280),
    "dpdd": (1120, 1680),
}
