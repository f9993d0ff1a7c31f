"""Reading `params.yaml`: the one configuration layer, read here and nowhere else."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from irnext.errors import InputError


def load_params(path: str | Path = "params.yaml") -> dict[str, Any]:
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: params file not found (expected a YAML mapping of stages)")
    with path.open() as handle:
        params = yaml.safe_load(handle)
    if not isinstance(params, dict):
        raise InputError(f"{path}: expected a YAML mapping at the top level, got {type(params)}")
    return params


def section(params: dict[str, Any], *keys: str, source: str = "params.yaml") -> Any:
    """params[keys[0]][keys[1]]..., with an error that names the missing dotted key."""
    node: Any = params
    for depth, key in enumerate(keys):
        if not isinstance(node, dict) or key not in node:
            dotted = ".".join(keys[: depth + 1])
            raise InputError(f"{source}: missing key '{dotted}'")
        node = node[key]
    return node


def parse_group_lists(entries: list[str]) -> dict[str, Path]:
    """`--group-list GROUP=FILE` options (e.g. DPDD's indoor/outdoor lists) -> {group: path}."""
    lists = {}
    for entry in entries:
        group, sep, file = entry.partition("=")
        if not sep or not group or not file:
            raise InputError(f"--group-list {entry!r}: expected GROUP=FILE, e.g. indoor=a.npy")
        lists[group] = Path(file)
    return lists
