"""The complexity record of a named model: parameters, MACs from three counters, the paper's figure.

`model_complexity(name)` is what `irnext complexity` prints: `count_macs` on the named model plus
the published figure and its counter (`reported`, from `benchmarks/published/cost.yaml`) and the
environment stamp.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from irnext.cost.counters import COUNTERS, count_macs
from irnext.env import environment_stamp
from irnext.errors import InputError
from irnext.io import read_yaml_mapping
from irnext.models.registry import create_model, model_entry

# What makes a model impossible to build on the meta device (an `.item()` in its constructor).
_NOT_ON_META = (RuntimeError, NotImplementedError, TypeError, ValueError)


def build_for_counting(name: str, *, real: bool = False) -> nn.Module:
    """Named model `name` on the meta device (no weights initialised or stored: a fraction of the
    time and memory), or on the CPU where it cannot be built on meta or `real` arithmetic is
    needed (fvcore traces real tensors)."""
    if not real:
        try:
            with torch.device("meta"):
                return create_model(name)
        except _NOT_ON_META:
            pass
    return create_model(name)


def count_named(
    name: str, input_shape: Sequence[int], *, counters: Sequence[str] = COUNTERS
) -> dict[str, Any]:
    """`count_macs` of named model `name`, built on meta where it can be (a model that builds on
    meta but cannot run there is rebuilt on the CPU and counted with real tensors)."""
    model = build_for_counting(name, real="fvcore" in counters)
    _check_size(model, name, input_shape[-2:])
    try:
        return count_macs(model, input_shape, counters=counters)
    except _NOT_ON_META:
        if not any(p.is_meta for p in model.parameters()):
            raise
    return count_macs(create_model(name), input_shape, counters=counters)


def _check_size(model: nn.Module, name: str, size: Sequence[int]) -> None:
    multiple = getattr(model, "size_multiple", 1)
    if size[0] % multiple or size[1] % multiple:
        raise InputError(
            f"size {size[0]}x{size[1]}: {name} needs sides that are multiples of "
            f"{multiple}; pad the size (e.g. 736x1280 for 720x1280 frames)"
        )


def load_published(path: str | Path) -> dict[str, Any]:
    """Published cost figures by model name, `same_as` entries resolved."""
    path = Path(path)
    data = read_yaml_mapping(path, expected="published cost figures under 'models'")
    if not isinstance(data.get("models"), dict):
        raise InputError(f"{path}: expected a mapping with a 'models' mapping of model names")
    models = data["models"]
    resolved = {}
    for name, entry in models.items():
        if "same_as" in entry:
            if entry["same_as"] not in models:
                raise InputError(
                    f"{path}: models.{name}.same_as names unknown '{entry['same_as']}'"
                )
            entry = {**models[entry["same_as"]], "same_as": entry["same_as"]}
        resolved[name] = entry
    return {**data, "models": resolved}


def model_complexity(
    name: str,
    *,
    size: Sequence[int] = (256, 256),
    batch: int = 1,
    counters: Sequence[str] = COUNTERS,
    published: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Complexity record of the named model at batch x 3 x H x W (`size` = H, W)."""
    if len(size) != 2 or min(size) < 1 or batch < 1:
        raise InputError(f"size {tuple(size)} / batch {batch}: expected positive H W and batch")
    record = {"model": name, **count_named(name, (batch, 3, *size), counters=counters)}
    for counter in counters:
        record[f"gmacs_{counter}"] = record[f"macs_{counter}"] / 1e9
    reported = (published or {}).get("models", {}).get(name)
    record["reported"] = reported
    if reported and reported.get("gmacs") and tuple(size) == (256, 256) and batch == 1:
        ours = record[f"macs_{counters[0]}"] / 1e9
        record["reported_gmacs_ratio"] = reported["gmacs"] / ours
    record["assumption"] = model_entry(name).assumption  # inferred configurations say so
    record["environment"] = environment_stamp("cpu")
    return record
