"""A crash, a full disk, a size limit or a read-only folder never leaves a partial file."""

from __future__ import annotations

import io as stdlib_io
import json
import os
import random
import signal
import textwrap
import time

import pytest
import torch

import irnext
from irnext.checkpoint import save_checkpoint
from irnext.evaluation import write_rows, write_summary
from irnext.io import (
    OutputError,
    atomic_torch_save,
    atomic_write_json,
    atomic_write_text,
    check_writable,
)
from tests.reliability._faults import (
    EACCES,
    EFBIG,
    ENOSPC,
    EROFS,
    failing,
    run_python,
    temp_files,
)

SMALL = dict(num_res=1, width=8, filter_groups=2)

# The child overwrites one checkpoint again and again, alternating between two models, so a
# kill at any moment hits a write in progress over a complete older file.
_SAVER = textwrap.dedent(
    """
    import sys, torch, irnext
    path = sys.argv[1] if len(sys.argv) > 1 else {path!r}
    models = [irnext.create_model("irnext-test", width=16) for _ in range(2)]
    for seed, model in enumerate(models):
        torch.manual_seed(seed)
        for p in model.parameters():
            torch.nn.init.normal_(p)
    irnext.save_checkpoint(path, models[0], training={{"which": 0}})
    print("ready", flush=True)
    i = 0
    while True:
        i += 1
        irnext.save_checkpoint(path, models[i % 2], training={{"which": i % 2}})
    """
)


@pytest.mark.slow
def test_sigkill_during_saves_leaves_the_old_or_the_new_checkpoint(tmp_path):
    path = tmp_path / "model.pt"
    seen, interrupted = set(), 0
    rng = random.Random(0)
    for _ in range(4):  # each child imports torch: seconds per round
        child = run_python(_SAVER.format(path=str(path)))
        assert child.stdout.readline().strip() == "ready", child.stderr.read()
        time.sleep(rng.uniform(0.05, 0.6))  # lands inside a save most of the time
        child.send_signal(signal.SIGKILL)
        child.wait()
        interrupted += bool(temp_files(tmp_path))  # killed inside a write
        for leftover in temp_files(tmp_path):
            leftover.unlink()
        model, info = irnext.load_checkpoint(path)  # always complete, never partial
        seen.add(info["training"]["which"])
        expected = torch.load(path, weights_only=True)["state_dict"]
        assert all(torch.equal(v, expected[k]) for k, v in model.state_dict().items())
    # Only complete files are ever visible; leftovers are hidden temporaries next to it.
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith(".")) == ["model.pt"]
    assert seen <= {0, 1}
    assert interrupted > 0  # the kills did land inside writes, not only between them


def _good_file(tmp_path):
    path = tmp_path / "summary.json"
    atomic_write_json(path, {"old": True})
    return path


@pytest.mark.parametrize(
    "error_number, words", [(ENOSPC, "disk is full"), (EFBIG, "file exceeds the file-size")]
)
def test_a_failed_write_keeps_the_old_file_and_names_the_cause(
    tmp_path, monkeypatch, error_number, words
):
    path = _good_file(tmp_path)
    # The disk fills (or the size limit is hit) on the first write to the temporary file.
    monkeypatch.setattr(os, "fsync", failing(os.fsync, error_number))
    with pytest.raises(OutputError, match=f"summary.json: cannot write: the {words}"):
        write_summary(path, {"new": True, "means": {}})
    monkeypatch.undo()
    assert json.loads(path.read_text()) == {"old": True}
    assert temp_files(tmp_path) == []


def test_a_full_disk_during_a_checkpoint_save_keeps_the_old_checkpoint(tmp_path, monkeypatch):
    path = tmp_path / "m.pt"
    save_checkpoint(path, irnext.create_model("irnext-test", **SMALL))
    before = path.read_bytes()

    class FullDisk(stdlib_io.FileIO):  # every write of the new file fails as on a full disk
        def write(self, data):
            raise OSError(ENOSPC, os.strerror(ENOSPC))

    monkeypatch.setattr(os, "fdopen", lambda fd, mode: FullDisk(fd, "wb", closefd=True))
    with pytest.raises(OutputError, match="m.pt: cannot write: the disk is full"):
        save_checkpoint(path, irnext.create_model("irnext-test", **SMALL))
    monkeypatch.undo()
    assert path.read_bytes() == before and temp_files(tmp_path) == []


def test_the_file_size_limit_in_a_child_process(tmp_path):
    # RLIMIT_FSIZE makes write() fail with EFBIG once SIGXFSZ is ignored (else the kernel
    # kills the process): the limit a batch scheduler or `ulimit -f` imposes.
    path = tmp_path / "big.pt"
    atomic_write_text(path, "old\n")
    code = textwrap.dedent(
        f"""
        import resource, signal, torch
        from irnext.io import atomic_torch_save, OutputError
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))
        try:
            atomic_torch_save({{"w": torch.zeros(100_000)}}, {str(path)!r})
        except OutputError as error:
            print(error)
        """
    )
    child = run_python(code)
    out, err = child.communicate(timeout=120)
    assert "big.pt: cannot write: the file exceeds the file-size limit (EFBIG" in out, err
    assert path.read_text() == "old\n" and temp_files(tmp_path) == []


@pytest.mark.parametrize("error_number, words", [(EROFS, "read-only"), (EACCES, "permission")])
def test_a_read_only_folder_is_named_before_work_and_on_write(
    tmp_path, monkeypatch, error_number, words
):
    # Tests run as root, for whom permission bits do not stop a write, so the folder is made
    # unwritable at the system-call level: creating any file in it fails as on a read-only
    # mount (EROFS) or a folder of another user (EACCES).
    folder = tmp_path / "out"
    folder.mkdir()
    monkeypatch.setattr(
        os,
        "open",
        failing(os.open, error_number, when=lambda p, *a, **k: str(p).startswith(str(folder))),
    )
    with pytest.raises(OutputError, match=f"summary.json: cannot write: .*{words}"):
        check_writable(folder / "summary.json")
    with pytest.raises(OutputError, match=f"per_image.csv: cannot write: .*{words}"):
        write_rows(folder / "per_image.csv", [], metrics=("psnr_db",))
    monkeypatch.undo()
    assert list(folder.iterdir()) == []


def test_an_immutable_folder_really_refuses_root(tmp_path):
    """`chattr +i` stops even root; skipped where the file system has no such attribute."""
    import shutil
    import subprocess

    folder = tmp_path / "frozen"
    folder.mkdir()
    if (
        shutil.which("chattr") is None
        or subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode
    ):
        pytest.skip("chattr +i is not supported on this file system")
    try:
        with pytest.raises(OutputError, match="frozen/m.pt: cannot write: operation not"):
            atomic_torch_save({"w": torch.zeros(2)}, folder / "m.pt")
    finally:
        subprocess.run(["chattr", "-i", str(folder)], check=True)


def test_check_writable_names_a_file_in_the_way_and_a_folder_at_the_path(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(OutputError, match="parent of the path is a file"):
        check_writable(tmp_path / "file" / "summary.json")
    (tmp_path / "folder").mkdir()
    with pytest.raises(OutputError, match="folder, not a file"):
        check_writable(tmp_path / "folder")
    created = check_writable(tmp_path / "new" / "deep" / "x.json")
    assert created.parent.is_dir() and not created.exists()  # nothing left behind


def test_written_files_have_ordinary_permissions(tmp_path):
    umask = os.umask(0o022)
    try:
        path = atomic_write_text(tmp_path / "a.txt", "x")
    finally:
        os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o644  # not mkstemp's 0600
