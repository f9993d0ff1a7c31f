"""Self-describing checkpoints: a file rebuilds its exact network with no other input.

A checkpoint stores the model name, the architecture and its resolved keyword arguments, the
state, the code version and whatever training parameters the caller passes (nanoGPT's pattern).
Files are read with `weights_only=True`, so only tensors and plain data come back.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn

from irnext import __version__
from irnext.env import git_commit
from irnext.errors import InputError
from irnext.models.registry import build_architecture

FORMAT = "irnext-bench-checkpoint/1"
_REQUIRED = ("format", "architecture", "model_kwargs", "state_dict")


def model_spec(model: nn.Module) -> dict[str, Any]:
    """How `model` was built: {'name', 'architecture', 'kwargs'}."""
    spec = getattr(model, "irnext_spec", None)
    if spec is not None:
        return dict(spec)
    config = getattr(model, "config", None)
    if isinstance(config, dict):  # a bare IRNeXt(...) built without the registry
        return {"name": None, "architecture": type(model).__name__, "kwargs": dict(config)}
    raise InputError(
        f"cannot describe a {type(model).__name__}: build it with irnext.create_model(name) "
        "so the checkpoint can record how to rebuild it"
    )


def save_checkpoint(
    path: str | Path,
    model: nn.Module,
    *,
    training: dict[str, Any] | None = None,
    resume: dict[str, Any] | None = None,
    **extra: Any,
) -> Path:
    """Write `model` with everything needed to rebuild it; `training` holds the recipe used
    (params.yaml section, epoch, metrics...), `extra` any further plain-data entries. `resume`
    is `irnext.training.train`'s resume state, stored as it is (the optimiser's state is keyed
    by parameter index, which plain-data conversion would turn into strings)."""
    spec = model_spec(model)
    payload = {
        "format": FORMAT,
        "model_name": spec["name"],
        "architecture": spec["architecture"],
        "model_kwargs": _plain(spec["kwargs"]),
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "code_version": __version__,
        "git_commit": git_commit(),
        "training": _plain(training or {}),
        **_plain(extra),
    }
    if resume is not None:
        payload["resume"] = resume
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(payload, path)
    return path


def load_checkpoint(
    path: str | Path, *, map_location: str | torch.device = "cpu"
) -> tuple[nn.Module, dict[str, Any]]:
    """Rebuild the saved network and load its state. Returns (model in eval mode, info), where
    info is everything in the file except the state."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: checkpoint file not found")
    try:
        payload = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as error:
        raise InputError(f"{path}: not a readable torch checkpoint ({error})") from error
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        found = payload.get("format") if isinstance(payload, dict) else type(payload).__name__
        hint = (
            " (an official IRNeXt .pkl? use irnext.load_official_checkpoint)"
            if isinstance(payload, dict) and "model" in payload
            else ""
        )
        raise InputError(
            f"{path}: expected an {FORMAT} checkpoint with keys {_REQUIRED}, "
            f"found format {found!r}{hint}"
        )
    missing = [key for key in _REQUIRED if key not in payload]
    if missing:
        raise InputError(f"{path}: checkpoint lacks keys {missing}")
    model = build_architecture(payload["architecture"], dict(payload["model_kwargs"]))
    model.load_state_dict(payload["state_dict"])
    model.irnext_spec = {
        "name": payload.get("model_name"),
        "architecture": payload["architecture"],
        "kwargs": dict(payload["model_kwargs"]),
    }
    info = {k: v for k, v in payload.items() if k != "state_dict"}
    return model.eval(), info


def _plain(value: Any) -> Any:
    """Tuples -> lists etc. are kept; anything not plain data is refused with its key path."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(v) for v in value)
    if value is None or isinstance(value, (bool, int, float, str, torch.Tensor)):
        return value
    raise InputError(
        f"checkpoint entries must be plain data; got {type(value).__name__}: {value!r:.80}"
    )
