"""`inspect_dataset`: find and decode every pair of a user's folder, report what is there.

Every image is fully decoded (a truncated file only fails on decoding) and every pair's sizes
are compared; all problems are gathered and raised together in one `InputError`.
"""

from __future__ import annotations

import warnings
from collections import Counter
from pathlib import Path
from typing import Any

from irnext.data.images import BitDepthWarning, colour_conversions, image_bit_depth
from irnext.data.paired import open_dataset
from irnext.data.sizes import completeness
from irnext.errors import InputError

_LISTED = 10


def inspect_dataset(
    name: str, root: str | Path, *, split: str | None = None, **options: Any
) -> dict[str, Any]:
    """JSON-able summary of a split: pair count, sizes, bit depths, groups, sample names."""
    dataset = open_dataset(name, root, split=split, **options)
    sizes: Counter[str] = Counter()
    depths: Counter[str] = Counter()
    problems: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", BitDepthWarning)
        for index, pair in enumerate(dataset.pairs):
            try:
                degraded, _ = dataset.read_pair(index)
                depths[f"{image_bit_depth(pair.input_path)}-bit"] += 1
            except InputError as error:
                problems.append(str(error))
                continue
            sizes[f"{degraded.shape[1]}x{degraded.shape[0]}"] += 1
    for warning in caught:  # shown as well as reported, so nothing is silently converted
        if not issubclass(warning.category, BitDepthWarning):
            warnings.warn_explicit(warning.message, warning.category, warning.filename, 0)
    if problems:
        listed = "\n".join(f"  {p}" for p in problems[:_LISTED])
        more = f"\n  ... and {len(problems) - _LISTED} more" if len(problems) > _LISTED else ""
        raise InputError(
            f"dataset '{name}' at {root}: {len(problems)} of {len(dataset)} pairs are "
            f"unusable:\n{listed}{more}"
        )
    groups = Counter(pair.group for pair in dataset.pairs if pair.group is not None)
    return {
        "dataset": name,
        "split": dataset.split,
        "root": str(root),
        "task": dataset.info.task,
        "protocol": dataset.info.protocol,
        "pairs": len(dataset),
        **completeness(name, dataset.split, len(dataset)),
        "sizes": dict(sorted(sizes.items())),
        "input_bit_depths": dict(sorted(depths.items())),
        **colour_report(dataset.pairs),
        "warnings": sorted({str(w.message) for w in caught if w.category is BitDepthWarning}),
        "groups": dict(sorted(groups.items())),
        "distinct_targets": len({pair.target_path for pair in dataset.pairs}),
        "first_pairs": [
            {"name": p.name, "input": str(p.input_path), "target": str(p.target_path)}
            for p in dataset.pairs[:3]
        ],
    }


def colour_report(pairs) -> dict[str, Any]:
    """The colour modes stored in the inputs and the targets, and every conversion reading
    makes (gray->RGB, palette->RGB, alpha dropped, 16-bit scaling) with its first files."""
    modes: dict[str, Counter[str]] = {"input": Counter(), "target": Counter()}
    conversions: dict[str, list[str]] = {}
    seen: set = set()  # a shared target (HIDE, RESIDE) is one file, counted once
    for pair in pairs:
        for side, path in (("input", pair.input_path), ("target", pair.target_path)):
            if path in seen:
                continue
            seen.add(path)
            mode, steps = colour_conversions(path)
            modes[side][mode] += 1
            for step in steps:
                conversions.setdefault(step, []).append(str(path))
    return {
        "colour_modes": {side: dict(sorted(c.items())) for side, c in modes.items()},
        "conversions": {
            step: {"count": len(files), "first": files[:3]}
            for step, files in sorted(conversions.items())
        },
    }
