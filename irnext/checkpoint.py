"""Self-describing checkpoints: a file rebuilds its exact network with no other input.

A checkpoint stores the model name, the architecture and its resolved keyword arguments, the
state, the code version and whatever training parameters the caller passes (nanoGPT's pattern).
It holds no timestamp and no git commit, so the same weights and recipe give the same bytes;
`weights_sha256`, recorded at save time and verified at load time, identifies the weights
themselves: flipped bytes in a copy or a conversion to another dtype are refused by name.
Checkpoints written before the hash was recorded load with a warning naming the file. Files
are written atomically (`irnext.io`), as torch zip files (`.pt`) or, with a `.safetensors`
suffix, as safetensors (the description as JSON in the header's metadata). Reading never runs
code: torch files are loaded with `weights_only=True` (`irnext.weights.read_weights_file`).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import torch
from torch import nn

from irnext import __version__
from irnext.errors import InputError
from irnext.io import atomic_save_safetensors, atomic_torch_save
from irnext.models.registry import build_architecture
from irnext.weights import check_finite, load_matching_state, read_weights_file, weights_sha256

__all__ = ["FORMAT", "load_checkpoint", "model_spec", "save_checkpoint", "weights_sha256"]

FORMAT = "irnext-bench-checkpoint/1"
_REQUIRED = ("format", "architecture", "model_kwargs", "state_dict")
_METADATA_KEY = "irnext"  # safetensors metadata entry holding the description as JSON


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
    by parameter index, which plain-data conversion would turn into strings); `.safetensors`
    files cannot hold it. The previous file at `path` stays intact if writing fails."""
    path = Path(path)
    spec = model_spec(model)
    description = {
        "format": FORMAT,
        "model_name": spec["name"],
        "architecture": spec["architecture"],
        "model_kwargs": _plain(spec["kwargs"]),
        "code_version": __version__,
        "training": _plain(training or {}),
        **_plain(extra),
    }
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    description["weights_sha256"] = weights_sha256(state)
    if path.suffix == ".safetensors":
        if resume is not None:
            raise InputError(
                f"{path}: resume state (optimiser, history) cannot be stored in a .safetensors "
                "file; save resumable snapshots as .pt"
            )
        metadata = {_METADATA_KEY: json.dumps(description, allow_nan=False)}
        contiguous = {k: v.contiguous() for k, v in state.items()}
        return atomic_save_safetensors(contiguous, path, metadata=metadata)
    payload = {**description, "state_dict": state}
    if resume is not None:
        payload["resume"] = resume
    return atomic_torch_save(payload, path)


def load_checkpoint(
    path: str | Path, *, map_location: str | torch.device = "cpu"
) -> tuple[nn.Module, dict[str, Any]]:
    """Rebuild the saved network and load its state. Returns (model in eval mode, info), where
    info is everything in the file except the state. Non-finite weights, wrong keys or shapes
    raise `InputError` naming the file and the first offending keys."""
    path = Path(path)
    payload = _read_payload(path, map_location)
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
    if not isinstance(payload["model_kwargs"], dict):
        raise InputError(f"{path}: model_kwargs must be a mapping, got {payload['model_kwargs']!r}")
    try:
        model = build_architecture(payload["architecture"], dict(payload["model_kwargs"]))
    except InputError as error:
        raise InputError(f"{path}: {error}") from error
    load_matching_state(model, payload["state_dict"], path, dtypes=True)
    check_finite(payload["state_dict"], path)  # the most telling description comes first
    _verify_hash(path, payload)
    model.irnext_spec = {
        "name": payload.get("model_name"),
        "architecture": payload["architecture"],
        "kwargs": dict(payload["model_kwargs"]),
    }
    info = {k: v for k, v in payload.items() if k != "state_dict"}
    return model.eval(), info


def _verify_hash(path: Path, payload: dict[str, Any]) -> None:
    """The weights are those saved: a checkpoint altered after writing (flipped bytes in a
    copy, an edit of its tensors) would otherwise load and score quietly worse."""
    recorded = payload.get("weights_sha256")
    if recorded is None:
        warnings.warn(
            f"{path}: a checkpoint without a recorded weights_sha256 (written before irnext-bench "
            "recorded it): its weights cannot be verified; save it again to record the hash",
            UserWarning,
            stacklevel=3,
        )
        return
    found = weights_sha256(payload["state_dict"])
    if found != recorded:
        raise InputError(
            f"{path}: the weights do not match the weights_sha256 recorded when the checkpoint "
            f"was saved (recorded {recorded}, found {found}): the file was altered or "
            "corrupted after writing"
        )


def _read_payload(path: Path, map_location: str | torch.device) -> Any:
    """The checkpoint as one mapping, whichever of the two formats holds it."""
    if path.suffix != ".safetensors":
        return read_weights_file(path, map_location=map_location)
    tensors, metadata = read_weights_file(path, map_location=map_location, with_metadata=True)
    text = (metadata or {}).get(_METADATA_KEY)
    if text is None:
        raise InputError(
            f"{path}: a safetensors file without the '{_METADATA_KEY}' metadata entry; "
            "expected one written by irnext.save_checkpoint (bare weights: see "
            "irnext.models.baselines.load_baseline_weights)"
        )
    try:
        description = json.loads(text)
    except json.JSONDecodeError as error:
        raise InputError(f"{path}: '{_METADATA_KEY}' metadata is not JSON ({error})") from error
    if not isinstance(description, dict):
        raise InputError(f"{path}: '{_METADATA_KEY}' metadata must be a JSON object")
    return {**description, "state_dict": tensors}


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
