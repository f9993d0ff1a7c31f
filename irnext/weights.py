"""Reading weights files that may come from anywhere, and checking what they hold.

Every load path of the suite (its own checkpoints, the official IRNeXt `.pkl`, baseline weights)
reads files through `read_weights_file`: torch files with `weights_only=True`, so a pickle that
would import or call anything is refused before it runs, and safetensors files, which hold
tensors only. A file that cannot be read raises `InputError` naming it and saying what it
looks like (empty, truncated, random bytes, a pickle that wants to run code); torch's own
advice to retry with `weights_only=False` is deliberately not passed on.
"""

from __future__ import annotations

import hashlib
import re
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from irnext.errors import InputError

_LISTED = 5  # how many offending keys an error lists


def read_weights_file(
    path: str | Path,
    *,
    map_location: Any = "cpu",
    with_metadata: bool = False,
    what: str = "checkpoint",
) -> Any:
    """The object a torch file holds, or a safetensors file's {name: tensor} (and, with
    `with_metadata`, its header metadata as a second value). `what` names the file's role in
    the messages ('checkpoint', 'baseline weights')."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: {what} file not found")
    if path.stat().st_size == 0:
        raise InputError(
            f"{path}: not a readable {what}: the file is empty (an interrupted download or copy?)"
        )
    if path.suffix == ".safetensors":
        return _read_safetensors(path, map_location, with_metadata, what)
    try:
        with warnings.catch_warnings():
            # Pickles written with a newer protocol trigger an advisory warning only.
            warnings.filterwarnings("ignore", "Detected pickle protocol", UserWarning)
            payload = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as error:  # zip, pickle and weights-only errors all land here
        raise InputError(
            f"{path}: not a readable torch {what}: {_describe_load_error(error)}"
        ) from None
    return (payload, None) if with_metadata else payload


def _read_safetensors(path: Path, map_location: Any, with_metadata: bool, what: str) -> Any:
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="pt", device=str(map_location)) as handle:
            tensors = {key: handle.get_tensor(key) for key in handle.keys()}  # noqa: SIM118
            metadata = handle.metadata()
    except Exception as error:  # safetensors raises its own error types on bad headers
        raise InputError(
            f"{path}: not a readable safetensors {what} (truncated or another format: {error})"
        ) from None
    return (tensors, metadata) if with_metadata else tensors


def _describe_load_error(error: Exception) -> str:
    text = str(error)
    blocked = re.search(r"unsupported GLOBAL (\S+)|Unsupported global: GLOBAL (\S+)", text)
    if blocked:
        name = blocked.group(1) or blocked.group(2)
        return (
            f"refused, the file is a pickle that would import and run '{name}' when loaded; "
            "only tensors and plain data are read (weights_only=True)"
        )
    if isinstance(error, EOFError):
        return "the file ends before its data does (truncated)"
    if "zip archive" in text or "central directory" in text:
        return "not a complete torch zip archive (truncated or corrupted file)"
    if "Weights only load failed" in text or "UnpicklingError" in type(error).__name__:
        first = re.search(r"Unsupported operand[^\n]*", text)
        detail = f" ({first.group(0).strip()})" if first else ""
        return (
            "not a torch file of tensors and plain data (random bytes, another format, or "
            f"a pickle of Python objects){detail}"
        )
    first_line = text.splitlines()[0] if text else ""
    return (
        "not a torch file of tensors and plain data (random bytes or another format; "
        f"{type(error).__name__}: {first_line})"
    )


def as_state_dict(value: Any, path: str | Path) -> dict[str, torch.Tensor]:
    """`value` if it is a mapping of names to tensors; otherwise an error naming the file."""
    if not isinstance(value, Mapping):
        raise InputError(f"{path}: expected a state_dict (names -> tensors), got {type(value)}")
    bad = [k for k, v in value.items() if not isinstance(k, str) or not torch.is_tensor(v)]
    if bad:
        raise InputError(f"{path}: state_dict entries that are not tensors: {bad[:_LISTED]}")
    return dict(value)


def check_finite(state: Mapping[str, Any], path: str | Path) -> None:
    """NaN or infinite weights (a diverged run, a corrupted file) are refused at load time."""
    bad = non_finite_keys(as_state_dict(state, path))
    if bad:
        raise InputError(
            f"{path}: {len(bad)} tensor(s) hold NaN or infinite values, first {bad[:_LISTED]}"
        )


def non_finite_keys(state: Mapping[str, torch.Tensor]) -> list[str]:
    """The keys of floating-point tensors holding NaN or infinite values."""
    return [
        key
        for key, value in state.items()
        if (value.is_floating_point() or value.is_complex()) and not torch.isfinite(value).all()
    ]


def state_mismatches(
    model: nn.Module, state: Mapping[str, torch.Tensor], *, dtypes: bool = False
) -> list[str]:
    """Descriptions of missing keys, unexpected keys, shape differences and, with `dtypes`,
    dtype differences (empty: they fit). Published weights may be stored in half precision
    and are converted on loading; the suite's own checkpoints hold exactly the model's dtypes,
    so another dtype there (an int8 conversion) is a different network."""
    expected = model.state_dict()
    problems = [f"missing {k!r}" for k in expected if k not in state]
    problems += [f"unexpected {k!r}" for k in state if k not in expected]
    problems += [
        f"{k!r} has shape {tuple(v.shape)}, the model expects {tuple(expected[k].shape)}"
        for k, v in state.items()
        if k in expected and tuple(v.shape) != tuple(expected[k].shape)
    ]
    if dtypes:
        problems += [
            f"{k!r} has dtype {v.dtype}, the model expects {expected[k].dtype}"
            for k, v in state.items()
            if k in expected and v.dtype != expected[k].dtype
        ]
    return problems


def load_matching_state(
    model: nn.Module, state: Mapping[str, Any], path: str | Path, *, dtypes: bool = False
) -> nn.Module:
    """`model.load_state_dict(state)` after checking keys and shapes (and dtypes, see
    `state_mismatches`), naming the file and the first mismatches instead of torch's listing."""
    state = as_state_dict(state, path)
    problems = state_mismatches(model, state, dtypes=dtypes)
    if problems:
        raise InputError(
            f"{path}: the weights do not fit the {type(model).__name__} they describe "
            f"({len(problems)} problem(s)): " + "; ".join(problems[:_LISTED])
        )
    model.load_state_dict(state)
    return model


def weights_sha256(state_dict: Mapping[str, torch.Tensor]) -> str:
    """sha256 over the weights themselves: each key (sorted), its dtype, its shape and its raw
    bytes. Equal for equal weights whatever file format, pickling or metadata holds them."""
    digest = hashlib.sha256()
    for key in sorted(state_dict):
        tensor = state_dict[key].detach().cpu().contiguous()
        digest.update(f"{key}\0{tensor.dtype}\0{tuple(tensor.shape)}\0".encode())
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()
