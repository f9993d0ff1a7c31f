"""One pipeline cell as one submitit job, preemption-safe.

A `CellJob` trains (if the cell trains) in a child process that writes a resumable step
checkpoint into the cell's own folder every `save_every_steps` steps, then runs the cell's
remaining steps (evaluation, curves) in-process. On submitit's preemption signal (USR2 unless
SUBMITIT_PREEMPT_SIGNAL says otherwise; Slurm sends it `signal_delay_s` before the time limit)
submitit calls `checkpoint()`: the child is stopped and the job requeued; the next attempt
resumes from the step checkpoint, which the training engine continues bit for bit. The final
checkpoint is moved to the stage's output only once training has finished, so an interrupted
cell never leaves a half-trained model where DVC looks.

Every attempt is written to `record.json` in the cell's folder (atomically): its state
(running, requeued, done, failed), start and end times, process, host and log, which is what
`irnext bench launch --status` reads.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import submitit

from irnext.io import atomic_write_json

RECORD = "record.json"
STEP_CHECKPOINT = "train.pt"  # the resumable checkpoint of the attempt in progress
TRAINED = "trained.json"  # written once the final checkpoint is in place


@dataclass
class CellPlan:
    """What one job runs, as plain data (paths relative to `root`).

    `train` is an `irnext train` argument list whose `--out` is the stage's checkpoint, or
    None for a stage that does not train through it (an ablation study: requeued, it starts
    over); `steps` are callables run in order afterwards, each returning an exit code."""

    stage: str
    root: str
    folder: str
    outs: tuple[str, ...]
    train: list[str] | None = None
    steps: list[Callable[[], int | None]] = field(default_factory=list)
    preflight: list[Callable[[], None]] = field(default_factory=list)  # on the job's machine
    gpus: int = 0
    save_every_steps: int = 100
    fingerprint: str = ""  # the stage's dependencies when it was found stale (stale.Stage)

    @property
    def checkpoint(self) -> str | None:
        """The stage's final checkpoint: the value of `--out` in `train`."""
        return None if self.train is None else self.train[self.train.index("--out") + 1]


def read_record(folder: Path) -> dict[str, Any] | None:
    path = Path(folder) / RECORD
    return json.loads(path.read_text()) if path.is_file() else None


def submitit_files(logs: Path, job_id: str):
    """submitit's files of job `job_id` under `logs` (`.stderr`, `.result_pickle`, ...)."""
    from submitit.core.utils import JobPaths

    return JobPaths(logs, job_id=job_id, task_id=0)


def training_step(path: Path) -> int | None:
    """The step of a step checkpoint (None when there is none yet)."""
    import torch

    if not Path(path).is_file():
        return None
    payload = torch.load(path, map_location="cpu", mmap=True, weights_only=False)
    return int(payload.get("training", {}).get("step", 0))


def preemption_signal() -> signal.Signals:
    return getattr(signal, "SIG" + submitit.JobEnvironment.USR_SIG)


def _child_setup() -> None:
    """In the training child before exec: only the job's own process answers the scheduler's
    signals (submitit's handler stops the child in order); a child that outlives the job is
    killed (Linux: the parent-death signal)."""
    for deaf in (preemption_signal(), signal.SIGTERM):
        signal.signal(deaf, signal.SIG_IGN)
    if sys.platform.startswith("linux"):
        import ctypes

        PR_SET_PDEATHSIG = 1  # <sys/prctl.h>
        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


class CellJob(submitit.helpers.Checkpointable):
    def __init__(self, plan: CellPlan) -> None:
        self.plan = plan
        self._child: subprocess.Popen | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {"plan": self.plan}  # a running child does not travel with the requeued job

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.plan, self._child = state["plan"], None

    def __call__(self) -> str:
        folder = Path(self.plan.folder)
        folder.mkdir(parents=True, exist_ok=True)
        os.chdir(self.plan.root)  # the stage's commands name paths relative to the repository
        self._update(state="running", attempt_started=time.time())
        try:
            for check in self.plan.preflight:  # e.g. a profile that needs CUDA on this node
                check()
            if self.plan.train is not None and not (folder / TRAINED).is_file():
                self._train(folder)
            for step in self.plan.steps:
                code = step()
                if code:
                    raise RuntimeError(f"{self.plan.stage}: {step!r} exited with {code}")
        except Exception:
            self._update(state="failed", ended=time.time(), error=traceback.format_exc())
            raise
        self._update(state="done", ended=time.time())
        return self.plan.stage

    def checkpoint(self, *args: Any, **kwargs: Any) -> submitit.helpers.DelayedSubmission:
        """Preempted or near the time limit: stop training (its step checkpoint stays) and
        requeue this same job, which resumes from it."""
        self._stop_child()
        self._update(state="requeued", requeued=time.time())
        return super().checkpoint(*args, **kwargs)

    def _train(self, folder: Path) -> None:
        plan, scratch = self.plan, folder / STEP_CHECKPOINT
        argv = list(plan.train)
        argv[argv.index("--out") + 1] = str(scratch)
        argv += ["--save-every-steps", str(plan.save_every_steps)]
        resumed = training_step(scratch)
        if resumed is not None:
            argv += ["--resume", str(scratch)]
        self._update(resumed_from=(read_record(folder) or {}).get("resumed_from", []) + [resumed])
        self._child = subprocess.Popen(  # its own process group: torchrun's workers too
            _launcher(plan.gpus) + argv,
            cwd=plan.root,
            preexec_fn=_child_setup,
            start_new_session=True,
        )
        code = self._child.wait()
        self._child = None
        if code:
            raise RuntimeError(f"{plan.stage}: irnext train exited with {code}")
        final = Path(plan.root) / plan.checkpoint
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(scratch, final)
        atomic_write_json(folder / TRAINED, {"checkpoint": plan.checkpoint})

    def _stop_child(self) -> None:
        """Kill the training child's process group (its step checkpoints are written
        atomically, so the newest one is whole) and reap it. By pid, not through Popen: this
        runs in a signal handler that may have interrupted Popen.wait, which holds its lock."""
        child, self._child = self._child, None
        if child is None:
            return
        with contextlib.suppress(ProcessLookupError, ChildProcessError):  # it had ended
            os.killpg(child.pid, signal.SIGKILL)
            os.waitpid(child.pid, 0)

    def _update(self, **changes: Any) -> None:
        """Merge `changes` into the cell's record; each attempt's start is kept."""
        folder = Path(self.plan.folder)
        record = read_record(folder) or {"stage": self.plan.stage, "attempts": []}
        if "attempt_started" in changes:
            record["attempts"].append(changes.pop("attempt_started"))
            record.update(_where())
            record.pop("error", None)
        record.update(changes)
        atomic_write_json(folder / RECORD, record, indent=1)


def _launcher(gpus: int) -> list[str]:
    """`python -m irnext`, under torchrun (one process per GPU) when the cell has several."""
    if gpus > 1:
        run = [sys.executable, "-m", "torch.distributed.run", "--standalone"]
        return run + ["--nproc_per_node", str(gpus), "-m", "irnext"]
    return [sys.executable, "-m", "irnext"]


def _where() -> dict[str, Any]:
    """This attempt's process, host and log files (submitit's, inside a job)."""
    where: dict[str, Any] = {"pid": os.getpid(), "host": socket.gethostname()}
    try:
        paths = submitit.JobEnvironment().paths
        where.update(job_id=submitit.JobEnvironment().job_id, log=str(paths.stderr))
        where["stdout"] = str(paths.stdout)
    except RuntimeError:  # called outside a submitit job (tests calling the job directly)
        pass
    return where
