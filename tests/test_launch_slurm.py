"""`irnext bench launch --executor slurm` against a real one-node Slurm (tests/_slurm.py):
the miniature pipeline's two cells run as one job array, at once; one is preempted, requeued by
Slurm and resumes from its step checkpoint; both are recorded in dvc.lock.

Skipped where Slurm is not installed, with the reason shown; a failure instead under
IRNEXT_REQUIRE_SLURM=1 (CI installs Slurm and sets it).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from submitit import JobEnvironment

from irnext.checkpoint import load_checkpoint
from irnext.pipeline.jobs import read_record
from tests._slurm import job_state, local_slurm, require_slurm, start_if_requeued
from tests.test_launch_local import (
    CELLS,
    PREEMPTED,
    _cell_folder,
    _until,
    miniature,
    saved_step,
)

STEPS = 60  # of each miniature cell (two steps an epoch)


@pytest.fixture
def slurm(tmp_path_factory):
    require_slurm()
    with local_slurm(tmp_path_factory.mktemp("slurm")) as env:
        yield env


def _preempt(repo, env) -> int:
    """Preempt the cell's array task as submitit's own test does (SIGTERM to the job's
    processes, then the preemption signal); returns the step it had saved."""
    record, step = saved_step(repo)
    for sent in ("SIGTERM", JobEnvironment.USR_SIG):
        subprocess.run(["scancel", record["job_id"], "--signal", sent], env=env, check=True)
    folder = _cell_folder(repo, PREEMPTED)

    def restarted() -> bool:
        start_if_requeued(record["job_id"], env)
        return len(read_record(folder)["attempts"]) == 2

    try:
        _until(restarted, "the requeued task to start again")
    except AssertionError as error:  # say what Slurm was doing with the task
        raise AssertionError(f"{error}: {job_state(record['job_id'], env)}") from None
    return step


@pytest.mark.slow
def test_job_array_of_two_cells_one_preempted(tmp_path, slurm):
    # 60 steps: Slurm delivers the preemption signals through scancel, far later than a local
    # kill; the cell must still be training when they arrive (12 steps could finish first).
    repo = miniature(tmp_path / "repo", epochs=STEPS // 2)
    command = ["irnext", "bench", "launch", "--executor", "slurm", "--time", "10"]
    command += ["--max-parallel", "2", "--slurm-option", "cpus-per-task=1"]
    command += ["--save-every-steps", "2"]
    env = {**slurm, "OMP_NUM_THREADS": "1"}
    launcher = subprocess.Popen(command, cwd=repo, env=env, stdout=subprocess.PIPE, text=True)
    step = _preempt(repo, env)
    out, _ = launcher.communicate(timeout=240)
    assert launcher.returncode == 0, out
    assert all(f"recorded in dvc.lock: {cell}" in out for cell in CELLS), out

    records = [read_record(_cell_folder(repo, cell)) for cell in CELLS]
    array = {record["job_id"].split("_")[0] for record in records}
    assert len(array) == 1, records  # one job array ...
    assert sorted(record["job_id"].split("_")[1] for record in records) == ["0", "1"]
    starts, ends = [r["attempts"][0] for r in records], [r["ended"] for r in records]
    assert max(starts) < min(ends), records  # ... whose two tasks ran at once
    preempted = read_record(_cell_folder(repo, PREEMPTED))
    assert preempted["resumed_from"][0] is None and preempted["resumed_from"][1] >= step
    assert "Requeued job" in Path(preempted["stdout"]).read_text()  # by scontrol requeue
    model, info = load_checkpoint(repo / "models/haze/irnext-mini-s1.pt")
    assert info["training"]["step"] == STEPS

    status = subprocess.run(
        ["irnext", "bench", "launch", "--status"], cwd=repo, env=env, capture_output=True, text=True
    )
    assert all(f"{cell}: done" in status.stdout for cell in CELLS), status.stdout
    lock = (repo / "dvc.lock").read_text()
    assert all(cell in lock for cell in CELLS)
