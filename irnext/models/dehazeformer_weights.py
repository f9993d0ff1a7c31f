"""Loading the DehazeFormer authors' checkpoints (github IDKiro/DehazeFormer, any of T/S/B/M/L).

Their files hold `{'state_dict': {'module.' + key: tensor}}` (saved from DataParallel; their
test.py strips the first 7 characters of each key). A bare state_dict and keys without the
prefix are accepted too. The configuration is read from the keys and shapes: widths from
patch_embed/patch_merge/patch_split, depths from the block indices, MLP ratios from the MLP
widths, the conv type from the shape of `attn.conv`, attention placement and heads from which
blocks hold `attn.QK` / `norm1` and from the attention meta-MLP, the window from the
relative-position buffer.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from irnext.errors import InputError
from irnext.models.dehazeformer import _CONFIGS, DehazeFormer
from irnext.weights import as_state_dict, check_finite, load_matching_state

_SIGNATURE = ("patch_embed.proj.weight", "layer1.blocks.0.mlp.mlp.0.weight")
_BLOCK = re.compile(r"layer(\d)\.blocks\.(\d+)\.")
_DEFAULT_HEADS = (2, 4, 6, 1, 1)  # official defaults; unused by stages without attention


def unwrap_state_dict(payload: Any) -> Any:
    """The state_dict inside an authors' file: under 'state_dict' if present, 'module.' removed."""
    if isinstance(payload, Mapping) and isinstance(payload.get("state_dict"), Mapping):
        payload = payload["state_dict"]
    if not isinstance(payload, Mapping):
        return payload
    return {
        (k[len("module.") :] if isinstance(k, str) and k.startswith("module.") else k): v
        for k, v in payload.items()
    }


def is_dehazeformer_state(state: Any) -> bool:
    return isinstance(state, Mapping) and all(key in state for key in _SIGNATURE)


def _layer_blocks(state: Mapping[str, torch.Tensor], layer: int) -> list[int]:
    found = {int(m.group(2)) for k in state if (m := _BLOCK.match(k)) and int(m.group(1)) == layer}
    return sorted(found)


def _attention_ratio(state, layer: int, depth: int, path) -> float:
    attended = [i for i in range(depth) if f"layer{layer}.blocks.{i}.attn.QK.weight" in state]
    normed = [i for i in range(depth) if f"layer{layer}.blocks.{i}.norm1.weight" in state]
    if attended != normed or attended != list(range(depth - len(attended), depth)):
        raise InputError(
            f"{path}: layer{layer} has attention in blocks {attended} and RLN in {normed}; "
            "DehazeFormer places both in the same last blocks of a stage"
        )
    return len(attended) / depth


def _conv_type(state, layer: int, path) -> str:
    prefix = f"layer{layer}.blocks.0.attn.conv"
    if f"{prefix}.0.weight" in state:
        return "Conv"
    if f"{prefix}.weight" in state and state[f"{prefix}.weight"].shape[1] == 1:
        return "DWConv"
    raise InputError(f"{path}: no '{prefix}.weight' (DWConv) or '{prefix}.0.weight' (Conv) key")


def infer_config(state: Mapping[str, torch.Tensor], path: str | Path) -> dict[str, Any]:
    """DehazeFormer keyword arguments that reproduce the keys and shapes of `state`."""
    try:
        dims = [
            state["patch_embed.proj.weight"].shape[0],
            state["patch_merge1.proj.weight"].shape[0],
            state["patch_merge2.proj.weight"].shape[0],
            state["patch_split1.proj.0.weight"].shape[0] // 4,
            state["patch_split2.proj.0.weight"].shape[0] // 4,
        ]
    except KeyError as error:
        raise InputError(f"{path}: DehazeFormer weights without the key {error}") from None
    depths = [len(_layer_blocks(state, layer)) for layer in range(1, 6)]
    if 0 in depths:
        raise InputError(f"{path}: DehazeFormer weights with no blocks in a stage: {depths}")
    ratios = [state[f"layer{i + 1}.blocks.0.mlp.mlp.0.weight"].shape[0] / dims[i] for i in range(5)]
    conv_types = {_conv_type(state, layer, path) for layer in range(1, 6)}
    if len(conv_types) != 1:
        raise InputError(f"{path}: stages mix conv types {sorted(conv_types)}; expected one")
    attn = [_attention_ratio(state, i + 1, depths[i], path) for i in range(5)]
    heads = list(_DEFAULT_HEADS)
    window = 8
    for i in range(5):
        last = f"layer{i + 1}.blocks.{depths[i] - 1}.attn.attn"
        if f"{last}.meta.2.weight" in state:
            heads[i] = state[f"{last}.meta.2.weight"].shape[0]
            window = math.isqrt(state[f"{last}.relative_positions"].shape[0])
    return {
        "embed_dims": tuple(int(d) for d in dims),
        "mlp_ratios": tuple(float(r) for r in ratios),
        "depths": tuple(depths),
        "num_heads": tuple(int(h) for h in heads),
        "attn_ratios": tuple(attn),
        "conv_type": conv_types.pop(),
        "window_size": int(window),
    }


def catalogue_name(config: Mapping[str, Any]) -> str | None:
    """dehazeformer-t/s/b/m/l when the configuration is one of the published models."""
    import inspect

    defaults = {name: p.default for name, p in inspect.signature(DehazeFormer).parameters.items()}
    for suffix, kwargs in _CONFIGS.items():
        published = {**defaults, **kwargs}
        if all(_same(published[k], v) for k, v in config.items()):
            return f"dehazeformer-{suffix}"
    return None


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, tuple):
        return len(a) == len(b) and all(math.isclose(x, y) for x, y in zip(a, b, strict=True))
    return a == b


def load_dehazeformer_state(state: Mapping[str, Any], path: str | Path) -> DehazeFormer:
    """A DehazeFormer built from the configuration the authors' state_dict (or file payload)
    describes."""
    state = as_state_dict(unwrap_state_dict(state), path)
    check_finite(state, path)
    config = infer_config(state, path)
    model = load_matching_state(DehazeFormer(**config), state, path)
    name = catalogue_name(config) or "dehazeformer"
    model.irnext_spec = {
        "name": f"{name} ({Path(path).name})",
        "architecture": "dehazeformer",
        "kwargs": config,
        "weights": str(path),
    }
    return model.eval()
