"""Helpers that inject faults: failing system calls and scripts run in a child process."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def failing(call, error_number: int, *, when=lambda *args, **kwargs: True):
    """A replacement for `call` that raises OSError(error_number) whenever `when(...)` holds."""

    def replacement(*args, **kwargs):
        if when(*args, **kwargs):
            raise OSError(error_number, os.strerror(error_number))
        return call(*args, **kwargs)

    return replacement


def temp_files(folder: Path) -> list[Path]:
    """The temporary files atomic writes leave behind (there must be none)."""
    return sorted(p for p in folder.iterdir() if p.name.endswith(".tmp"))


def run_python(code: str, **kwargs) -> subprocess.Popen:
    """Start `python -c code` in the checkout with one thread (the machine is shared)."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kwargs,
    )


ENOSPC, EROFS, EACCES, EFBIG = errno.ENOSPC, errno.EROFS, errno.EACCES, errno.EFBIG
