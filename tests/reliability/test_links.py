"""Symbolic links: never written or locked through; followed (loops named) when reading data."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from irnext.cli import main
from irnext.data import inspect_dataset, open_dataset
from irnext.errors import InputError
from irnext.io import (
    LOCK_NAME,
    OutputError,
    atomic_write_json,
    atomic_write_text,
    check_writable,
    output_lock,
)
from tests._eval_helpers import write_synth_layout

WRITERS = {
    "text": lambda path: atomic_write_text(path, "new"),
    "json": lambda path: atomic_write_json(path, {"new": 1}),
    "check_writable": check_writable,
}


def _planted_link(tmp_path, name):
    """OUT/name -> a file of the user's elsewhere (a victim the suite must not touch)."""
    victim = tmp_path / "victim.txt"
    victim.write_text("the user's data")
    out = tmp_path / "out"
    out.mkdir()
    (out / name).symlink_to(victim)
    return out / name, victim


@pytest.mark.parametrize("writer", list(WRITERS))
def test_writers_refuse_a_planted_link_and_leave_its_target(tmp_path, writer):
    link, victim = _planted_link(tmp_path, "summary.json")
    with pytest.raises(OutputError) as caught:
        WRITERS[writer](link)
    assert str(caught.value).startswith(f"{link}: is a symbolic link (to {victim})")
    assert victim.read_text() == "the user's data" and link.is_symlink()


def test_the_lock_file_is_never_opened_through_a_link(tmp_path):
    """Before the fix, taking the lock truncated the link's target to the holder's pid."""
    link, victim = _planted_link(tmp_path, LOCK_NAME)
    with pytest.raises(OutputError, match="is a symbolic link"), output_lock(link.parent):
        pass
    assert victim.read_text() == "the user's data"


def test_evaluate_refuses_a_linked_lock_before_scoring(tmp_path, capsys):
    write_synth_layout(tmp_path / "data", count=1)
    link, victim = _planted_link(tmp_path, LOCK_NAME)
    args = ["evaluate", "--model", "identity", "--dataset", "synth-haze"]
    assert main([*args, "--root", str(tmp_path / "data"), "--out", str(link.parent)]) == 2
    assert f"{link}: is a symbolic link" in capsys.readouterr().err
    assert victim.read_text() == "the user's data"
    assert not (link.parent / "summary.json").exists()


def _png(path, value):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((8, 8, 3), value, np.uint8)).save(path)


def test_pairs_under_linked_sub_folders_are_read(tmp_path):
    """Four scenes, three of them linked in from elsewhere: all four pairs are found."""
    root, store = tmp_path / "root", tmp_path / "store"
    for index, scene in enumerate(("s1", "s2", "s3", "s4")):
        for side in ("input", "target"):
            folder = root / "test" / side / scene
            real = folder if scene == "s1" else store / side / scene
            _png(real / "0001.png", 10 * index)
            if scene != "s1":
                folder.symlink_to(real, target_is_directory=True)
    report = inspect_dataset("synth-haze", root)
    assert report["pairs"] == 4
    names = [pair.name for pair in open_dataset("synth-haze", root).pairs]
    assert names == ["s1/0001", "s2/0001", "s3/0001", "s4/0001"]


def test_a_link_loop_in_a_dataset_is_named(tmp_path):
    root = tmp_path / "root"
    for side in ("input", "target"):
        _png(root / "test" / side / "0001.png", 0)
    loop = root / "test" / "input" / "again"
    loop.symlink_to(root / "test", target_is_directory=True)  # input/again/input/again/...
    with pytest.raises(InputError) as caught:
        open_dataset("synth-haze", root)
    assert "a symbolic link loop" in str(caught.value) and str(loop) in str(caught.value)


def test_an_unreadable_sub_folder_is_named_not_skipped(tmp_path, monkeypatch):
    """rglob skipped folders it could not list; the walk names them (root ignores chmod, so
    the refusal is injected)."""
    import errno
    from pathlib import Path

    root = tmp_path / "root"
    for side in ("input", "target"):
        _png(root / "test" / side / "0001.png", 0)
    locked = root / "test" / "input" / "locked"
    locked.mkdir()
    listing = Path.iterdir

    def iterdir(self):
        if self == locked:
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        return listing(self)

    monkeypatch.setattr(Path, "iterdir", iterdir)
    with pytest.raises(InputError, match=f"{locked}: cannot list the folder: permission denied"):
        open_dataset("synth-haze", root)
