"""`irnext bench launch --executor slurm` against a real one-node Slurm (tests/_slurm.py):
the miniature pipeline's two cells run as one job array, at once, and are recorded in dvc.lock.

Skipped where Slurm is not installed, with the reason shown; a failure instead under
IRNEXT_REQUIRE_SLURM=1 (CI installs Slurm and sets it).
"""

from __future__ import annotations

import subprocess

import pytest

from irnext.pipeline.jobs import read_record
from tests._slurm import local_slurm, require_slurm
from tests.test_launch_local import CELLS, _cell_folder, miniature


@pytest.fixture
def slurm(tmp_path_factory):
    require_slurm()
    with local_slurm(tmp_path_factory.mktemp("slurm")) as env:
        yield env


@pytest.mark.slow
def test_job_array_of_two_cells(tmp_path, slurm):
    repo = miniature(tmp_path / "repo", epochs=2)
    command = ["irnext", "bench", "launch", "--executor", "slurm", "--time", "10"]
    command += ["--max-parallel", "2", "--slurm-option", "cpus-per-task=1"]
    env = {**slurm, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(command, cwd=repo, env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stdout + done.stderr
    assert all(f"recorded in dvc.lock: {cell}" in done.stdout for cell in CELLS), done.stdout

    records = [read_record(_cell_folder(repo, cell)) for cell in CELLS]
    array = {record["job_id"].split("_")[0] for record in records}
    assert len(array) == 1, records  # one job array ...
    assert sorted(record["job_id"].split("_")[1] for record in records) == ["0", "1"]
    starts, ends = [r["attempts"][0] for r in records], [r["ended"] for r in records]
    assert max(starts) < min(ends), records  # ... whose two tasks ran at once
    status = subprocess.run(
        ["irnext", "bench", "launch", "--status"], cwd=repo, env=env, capture_output=True, text=True
    )
    assert all(f"{cell}: done" in status.stdout for cell in CELLS), status.stdout
    lock = (repo / "dvc.lock").read_text()
    assert all(cell in lock for cell in CELLS)
