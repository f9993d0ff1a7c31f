"""Parsing parameters given on the command line: `--group-list GROUP=FILE` (`irnext data`,
`irnext evaluate`). `irnext params check` is registered by irnext.cli.profile."""

from __future__ import annotations

from pathlib import Path

from irnext.errors import InputError


def parse_group_lists(entries: list[str]) -> dict[str, Path]:
    """`--group-list GROUP=FILE` options (e.g. DPDD's indoor/outdoor lists) -> {group: path}."""
    lists = {}
    for entry in entries:
        group, sep, file = entry.partition("=")
        if not sep or not group or not file:
            raise InputError(f"--group-list {entry!r}: expected GROUP=FILE, e.g. indoor=a.npy")
        lists[group] = Path(file)
    return lists
