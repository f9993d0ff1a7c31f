"""Named models: `create_model(name, **overrides)` and `list_models()`.

A named model is an architecture plus a small dict of keyword arguments (timm's pattern): the
variant *is* its overrides. Entries carry what a comparison table needs beside the network:
the task it was published for, its licence and where its configuration comes from.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable
from typing import Any

from torch import nn

from irnext.errors import InputError, lookup
from irnext.models.entries import ModelEntry
from irnext.models.typecheck import check_kwargs

# The modules whose ARCHITECTURES and ENTRIES tables make up the catalogue, in listing order.
# Read on first use, so that `import irnext` and `irnext --help` do not import every network.
CATALOGUE_MODULES = (
    "irnext.models.variants",
    "irnext.models.convir",
    "irnext.models.dehazeformer",
    "irnext.models.baselines",
    "irnext.models.minis",
)

__all__ = ["ModelEntry", "build_architecture", "create_model", "list_models", "model_entry"]


@functools.cache
def _catalogue() -> tuple[dict[str, Callable[..., nn.Module]], dict[str, ModelEntry]]:
    architectures: dict[str, Callable[..., nn.Module]] = {}
    entries: dict[str, ModelEntry] = {}
    for module_name in CATALOGUE_MODULES:
        module = importlib.import_module(module_name)
        architectures.update(module.ARCHITECTURES)
        for entry in module.ENTRIES:
            if entry.name in entries:
                raise ValueError(f"model name '{entry.name}' is declared twice")
            entries[entry.name] = entry
    return architectures, entries


def list_models(task: str | None = None) -> list[str]:
    entries = _catalogue()[1]
    tasks = sorted({e.task for e in entries.values() if e.task})
    if task is not None and task not in tasks:
        raise InputError(f"unknown task '{task}'; tasks of the named models: {', '.join(tasks)}")
    return [n for n, e in entries.items() if task is None or e.task == task]


def model_entry(name: str) -> ModelEntry:
    return lookup(_catalogue()[1], name, "model")


def build_architecture(architecture: str, kwargs: dict[str, Any]) -> nn.Module:
    """Instantiate an architecture from its keyword arguments (what checkpoints store)."""
    architectures = _catalogue()[0]
    constructor = lookup(architectures, architecture, "architecture")
    where = f"architecture '{architecture}' with {kwargs}"
    check_kwargs(constructor, kwargs, where=where)
    try:
        return constructor(**kwargs)
    except (TypeError, ValueError, ZeroDivisionError) as error:  # a bad keyword or value
        raise InputError(f"architecture '{architecture}' with {kwargs}: {error}") from error


def create_model(name: str, **overrides: Any) -> nn.Module:
    """Build the named model; `overrides` replace entries of its keyword arguments.

    The returned module remembers how it was made in `model.irnext_spec`
    (name, architecture, resolved kwargs), which `irnext.checkpoint.save_checkpoint` stores.
    """
    entry = model_entry(name)
    kwargs = {**entry.kwargs, **overrides}
    model = build_architecture(entry.architecture, kwargs)
    model.irnext_spec = {"name": name, "architecture": entry.architecture, "kwargs": kwargs}
    return model
