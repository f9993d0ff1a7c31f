"""Fan the stale cells out as submitit jobs, wait for them, record the clean ones in dvc.lock.

Slurm: one job array, one task per cell, `--max-parallel` its array throttle (`%K`), each task
with `--gpus-per-cell` GPUs that Slurm picks and pins (CUDA_VISIBLE_DEVICES); queueing,
placement and requeueing are Slurm's. Local: one submitit subprocess per cell, at most
`max_parallel` at once, each pinned to its own `gpus_per_cell` of the machine's GPUs.

The launch's files live under `.irnext/launch/`: `state.json` (the latest launch: its cells,
job ids and folders, written atomically) and one folder per launch holding submitit's pickles
and logs and each cell's folder (record, step checkpoint).
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import submitit

from irnext.errors import InputError
from irnext.io import atomic_write_json
from irnext.pipeline.jobs import CellJob, CellPlan
from irnext.pipeline.verify import check_cell

LAUNCH_DIR = Path(".irnext/launch")
STATE = LAUNCH_DIR / "state.json"
EXECUTORS = ("local", "slurm")


@dataclass(frozen=True)
class LaunchOptions:
    executor: str = "local"
    gpus_per_cell: int = 0
    max_parallel: int = 1
    gpus: tuple[int, ...] = ()  # local: the machine's GPUs the cells are spread over
    partition: str | None = None
    time_min: int | None = None  # the job's time limit (required on Slurm)
    slurm_options: dict[str, str] = field(default_factory=dict)  # more sbatch options
    signal_delay_s: int = 120  # preemption signal this long before the time limit
    max_requeues: int = 3  # time-limit requeues per cell (preemptions are not counted)
    poll_s: float = 2.0

    def check(self) -> None:
        if self.executor not in EXECUTORS:
            raise InputError(f"executor {self.executor!r}: expected one of {list(EXECUTORS)}")
        if self.max_parallel < 1 or self.gpus_per_cell < 0:
            raise InputError("max_parallel must be >= 1 and gpus_per_cell >= 0")
        if self.executor == "slurm" and not self.time_min:
            raise InputError("the slurm executor needs --time MIN (docs/cluster.md sizes it)")
        wanted = self.max_parallel * self.gpus_per_cell
        if self.executor == "local" and wanted > len(self.gpus):
            raise InputError(
                f"{self.max_parallel} cells x {self.gpus_per_cell} GPU(s) = {wanted} GPUs; "
                f"this machine has {len(self.gpus)} ({list(self.gpus)})"
            )


def new_launch(root: Path, executor: str) -> dict[str, Any]:
    """The state of a new launch (not yet written): its id and folder."""
    launch_id = f"{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}"  # unique per launch
    return {
        "id": launch_id,
        "executor": executor,
        "started": time.time(),
        "folder": str(LAUNCH_DIR / launch_id),
        "cells": {},
    }


def cell_folder(root: Path, state: dict[str, Any], stage: str) -> Path:
    return (Path(root) / state["folder"] / "cells" / stage).resolve()


def logs_folder(root: Path, state: dict[str, Any]) -> Path:
    """submitit's folder of the launch: its pickles and every job's stdout and stderr."""
    return Path(root) / state["folder"] / "submitit"


def read_state(root: Path) -> dict[str, Any]:
    path = Path(root) / STATE
    if not path.is_file():
        raise InputError(f"{path}: no launch yet (run `irnext bench launch`)")
    return json.loads(path.read_text())


def launch(root: Path, state: dict[str, Any], plans: list[CellPlan], options, on_poll=None):
    """Run `plans` and wait for them; then `finish`. Returns (committed, failed)."""
    run_jobs(root, state, plans, options, on_poll)
    return finish(root, state)


def run_jobs(root: Path, state: dict[str, Any], plans: list[CellPlan], options, on_poll=None):
    """Run `plans` as jobs of `options.executor` and wait until every one has ended, calling
    `on_poll()` (progress) between looks at the jobs."""
    on_poll = on_poll or (lambda: None)
    if options.executor == "slurm":
        _wait_slurm(submit_only(root, state, plans, options), options.poll_s, on_poll)
    else:
        _remember(root, state, plans, options)
        _run_local(root, state, _executor(root, state, options), plans, options, on_poll)


def submit_only(root: Path, state: dict[str, Any], plans: list[CellPlan], options) -> list:
    """Slurm: submit `plans` as one job array and return its jobs (`finish` later)."""
    _remember(root, state, plans, options)
    executor = _executor(root, state, options)
    with executor.batch():
        jobs = [executor.submit(CellJob(plan)) for plan in plans]
    for plan, job in zip(plans, jobs):
        state["cells"][plan.stage]["job_id"] = job.job_id
    _write(root, state)
    return jobs


def _remember(root: Path, state: dict[str, Any], plans: list[CellPlan], options) -> None:
    """The launch's state file names every cell before any job starts."""
    options.check()
    for plan in plans:
        state["cells"][plan.stage] = {
            "folder": plan.folder,
            "outs": list(plan.outs),
            "checkpoint": plan.checkpoint,
            "fingerprint": plan.fingerprint,
            "job_id": None,
        }
    _write(root, state)


def finish(root: Path, state: dict[str, Any]) -> tuple[list[str], dict[str, str]]:
    """Check every cell of the launch and commit the clean ones (`check_cells`) whose
    dependencies are still those they ran with (code, data or params edited during a launch
    would otherwise be recorded as what produced the outputs)."""
    from irnext.pipeline.stale import commit_stages, fingerprints

    clean, failed = check_cells(root, state)
    now = fingerprints(Path(root), clean)
    for stage in clean:
        if now.get(stage) != state["cells"][stage]["fingerprint"]:
            failed[stage] = "its dependencies changed during the launch (code, data or params)"
    committed = [stage for stage in clean if stage not in failed]
    commit_stages(Path(root), committed)
    return committed, failed


def check_cells(root: Path, state: dict[str, Any]) -> tuple[list[str], dict[str, str]]:
    """(clean cells, failed: stage -> why, naming its log); the failed stay stale."""
    failed = {}
    for stage, cell in state["cells"].items():
        problem = check_cell(Path(root), cell, state["started"], logs_folder(root, state))
        if problem:
            failed[stage] = problem
    return [stage for stage in state["cells"] if stage not in failed], failed


def _write(root: Path, state: dict[str, Any]) -> None:
    atomic_write_json(Path(root) / STATE, state, indent=1)


def _executor(root: Path, state: dict[str, Any], options: LaunchOptions):
    folder = logs_folder(root, state)
    if options.executor == "local":
        executor = submitit.LocalExecutor(folder, max_num_timeout=options.max_requeues)
        # no time limit of submitit's own (its default is 2 minutes) unless one is asked for
        minutes = options.time_min or 60 * 24 * 365
        executor.update_parameters(timeout_min=minutes, signal_delay_s=options.signal_delay_s)
        return executor
    executor = submitit.SlurmExecutor(folder, max_num_timeout=options.max_requeues)
    parameters: dict[str, Any] = {
        "job_name": "irnext-cell",
        "time": options.time_min,
        "ntasks_per_node": 1,
        "array_parallelism": options.max_parallel,
        "signal_delay_s": options.signal_delay_s,
        "additional_parameters": dict(options.slurm_options),
    }
    if options.partition:
        parameters["partition"] = options.partition
    if options.gpus_per_cell:
        parameters["gpus_per_node"] = options.gpus_per_cell
    executor.update_parameters(**parameters)
    return executor


def _wait_slurm(jobs: list, poll_s: float, on_poll) -> None:
    """Until every job has a result file or has left the queue (killed, cancelled)."""
    pending = list(jobs)
    while pending:
        time.sleep(poll_s)
        on_poll()
        queued = set(_squeue())
        pending = [j for j in pending if not j.paths.result_pickle.exists() and j.job_id in queued]


def _squeue() -> list[str]:
    done = subprocess.run(
        ["squeue", "--noheader", "--array", "--format=%i"],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.split()


def _run_local(root, state, executor, plans: list[CellPlan], options, on_poll) -> None:
    """At most `max_parallel` cells at once, slot k owning GPUs k*g .. k*g+g-1."""
    g = options.gpus_per_cell
    slots = {k: list(options.gpus[k * g : (k + 1) * g]) for k in range(options.max_parallel)}
    pending, running = list(plans), {}
    while pending or running:
        for slot in [k for k in slots if k not in running]:
            if not pending:
                break
            plan = pending.pop(0)
            executor.update_parameters(gpus_per_node=g, visible_gpus=slots[slot])
            running[slot] = executor.submit(CellJob(plan))
            state["cells"][plan.stage]["job_id"] = running[slot].job_id
            _write(root, state)
        time.sleep(options.poll_s)
        on_poll()
        running = {k: job for k, job in running.items() if not job.done()}
