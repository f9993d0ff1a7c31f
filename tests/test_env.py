"""The environment stamp records what produced a number, checked against other sources than the
ones it reads (package metadata, git and getconf run here, the settings the test itself makes)."""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from irnext.env import _static_stamp, environment_stamp, git_commit

REPO = Path(__file__).resolve().parents[1]


def _git(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-C", str(REPO), *args], capture_output=True, text=True)


def test_versions_come_from_the_installed_packages():
    stamp = environment_stamp("cpu")
    version = importlib.metadata.version
    assert stamp["torch"].split("+")[0] == version("torch")  # local tag (+cu130) aside
    assert stamp["numpy"] == version("numpy") and stamp["pillow"] == version("pillow")
    assert stamp["irnext_version"] == version("irnext-bench")
    assert stamp["python"] == "{}.{}.{}".format(*sys.version_info[:3])
    from PIL import _imaging  # the compiled module Pillow decodes JPEG with

    turbo = getattr(_imaging, "libjpeg_turbo_version", None)
    assert stamp["libjpeg"] == (f"libjpeg-turbo {turbo}" if turbo else _imaging.jpeglib_version)
    json.dumps(stamp)  # plain data, as written into every result file


def test_git_commit_is_the_checkouts_head():
    _static_stamp.cache_clear()  # the stamp is computed once per process; this test re-reads git
    head = _git("rev-parse", "HEAD")
    if head.returncode != 0:  # an installed copy outside a checkout records no commit
        assert environment_stamp("cpu")["git_commit"] is None
        return
    clean_before = _git("diff-index", "--quiet", "HEAD", "--").returncode == 0
    stamp = environment_stamp("cpu")
    # Read again after the stamp: a commit or an edit landing in between must not fail the test.
    heads = {head.stdout.strip(), _git("rev-parse", "HEAD").stdout.strip()}
    clean = {clean_before, _git("diff-index", "--quiet", "HEAD", "--").returncode == 0}
    commit, _, flag = stamp["git_commit"].partition("+")
    assert len(commit) == 12 and any(h.startswith(commit) for h in heads)
    assert flag in {"" if c else "dirty" for c in clean}


def test_git_commit_is_none_outside_a_checkout(tmp_path):
    assert _git("-C", str(tmp_path), "rev-parse").returncode != 0  # pytest's tmp: no repository
    assert git_commit(tmp_path) is None  # git refuses: no exception, no commit recorded


def test_machine_facts_come_from_the_machine():
    stamp = environment_stamp("cpu")
    online = subprocess.run(["getconf", "_NPROCESSORS_ONLN"], capture_output=True, text=True)
    if online.returncode == 0:
        assert stamp["cpu_count"] == int(online.stdout)
    assert os.uname().sysname in stamp["platform"] and os.uname().machine in stamp["platform"]
    cpuinfo = Path("/proc/cpuinfo")
    names = (
        re.findall(r"^model name\s*:\s*(.+)$", cpuinfo.read_text(), re.M)
        if cpuinfo.exists()
        else []
    )
    if names:
        assert stamp["device_name"] == names[0].strip()
    when = dt.datetime.fromisoformat(stamp["timestamp_utc"])
    assert abs((dt.datetime.now(dt.timezone.utc) - when).total_seconds()) < 60
    assert stamp["device"] == "cpu"


@pytest.mark.parametrize(("threads", "cudnn_benchmark"), [(1, True), (2, False)])
def test_settings_are_read_when_the_stamp_is_made(threads, cudnn_benchmark):
    before = torch.get_num_threads(), torch.backends.cudnn.benchmark
    try:
        torch.set_num_threads(threads)
        torch.backends.cudnn.benchmark = cudnn_benchmark
        stamp = environment_stamp("cpu")
    finally:
        torch.set_num_threads(before[0])
        torch.backends.cudnn.benchmark = before[1]
    assert stamp["torch_num_threads"] == threads and stamp["cudnn_benchmark"] is cudnn_benchmark
