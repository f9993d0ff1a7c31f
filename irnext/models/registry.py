"""Named models: `create_model(name, **overrides)` and `list_models()`.

A named model is an architecture plus a small dict of keyword arguments (timm's pattern): the
variant *is* its overrides. Entries carry what a comparison table needs beside the network:
the task it was published for, its licence and where its configuration comes from.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from torch import nn

from irnext.errors import InputError


@dataclass(frozen=True)
class ModelEntry:
    name: str
    architecture: str  # key of ARCHITECTURES: the class that `kwargs` configure
    kwargs: dict[str, Any] = field(default_factory=dict)
    task: str | None = None  # dehaze, desnow, motion_deblur, defocus_deblur, derain, test
    licence: str = "MIT"
    source: str = ""  # where the configuration comes from (paper, official code)
    assumption: str | None = None  # set where the configuration is inferred, not published


# architecture name -> constructor taking keyword arguments only
ARCHITECTURES: dict[str, Callable[..., nn.Module]] = {}
_ENTRIES: dict[str, ModelEntry] = {}


def register_architecture(name: str, constructor: Callable[..., nn.Module]) -> None:
    ARCHITECTURES[name] = constructor


def register(entry: ModelEntry) -> ModelEntry:
    if entry.name in _ENTRIES:
        raise ValueError(f"model name '{entry.name}' is registered twice")
    _ENTRIES[entry.name] = entry
    return entry


def _ensure_loaded() -> None:
    # Entries live next to their architectures; importing the modules registers them.
    from irnext.models import baselines, variants  # noqa: F401


def list_models(task: str | None = None) -> list[str]:
    _ensure_loaded()
    tasks = sorted({e.task for e in _ENTRIES.values() if e.task})
    if task is not None and task not in tasks:
        raise InputError(f"unknown task '{task}'; tasks of the named models: {', '.join(tasks)}")
    return [n for n, e in _ENTRIES.items() if task is None or e.task == task]


def model_entry(name: str) -> ModelEntry:
    _ensure_loaded()
    if name not in _ENTRIES:
        raise InputError(f"unknown model '{name}'; known models: {', '.join(_ENTRIES)}")
    return _ENTRIES[name]


def build_architecture(architecture: str, kwargs: dict[str, Any]) -> nn.Module:
    """Instantiate an architecture from its keyword arguments (what checkpoints store)."""
    _ensure_loaded()
    if architecture not in ARCHITECTURES:
        known = ", ".join(sorted(ARCHITECTURES))
        raise InputError(f"unknown architecture '{architecture}'; known: {known}")
    try:
        return ARCHITECTURES[architecture](**kwargs)
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
