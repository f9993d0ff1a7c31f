"""A real one-node Slurm cluster for the tests: munge, slurmctld and slurmd on this machine.

Needs Debian's `slurm-wlm` and `munge` and root (slurmd runs jobs as their users). Where they
are missing the test is skipped with the reason, unless IRNEXT_REQUIRE_SLURM=1 (set by .ci/run,
which installs them): then a missing Slurm fails the test instead of hiding it.

The configuration is the smallest that runs without cgroups or accounting: processes tracked
through /proc, no task plugin, cores as the consumable resource, state, spool, logs and pid
files in a temporary folder, ports found free at start.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest

PROGRAMS = ("slurmctld", "slurmd", "sbatch", "squeue", "sinfo", "munged", "munge")
MUNGE_KEY = Path("/etc/munge/munge.key")
MUNGE_RUN = Path("/run/munge")


def require_slurm() -> None:
    """Skip (or, under IRNEXT_REQUIRE_SLURM=1, fail) where a local Slurm cannot start."""
    missing = [name for name in PROGRAMS if shutil.which(name) is None]
    problem = ""
    if missing:
        problem = f"Slurm is not installed (missing {', '.join(missing)}; apt: slurm-wlm munge)"
    elif os.geteuid() != 0:
        problem = "starting slurmd and munged needs root"
    if problem and os.environ.get("IRNEXT_REQUIRE_SLURM") == "1":
        pytest.fail(f"IRNEXT_REQUIRE_SLURM=1 but {problem}")
    if problem:
        pytest.skip(problem)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _memory_mb() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) // 1024
    raise RuntimeError("/proc/meminfo has no MemTotal")


def write_conf(folder: Path) -> Path:
    host = socket.gethostname().split(".")[0]
    for name in ("state", "spool"):
        (folder / name).mkdir(parents=True, exist_ok=True)
    lines = [
        "ClusterName=irnexttest",
        f"SlurmctldHost={host}",
        "SlurmUser=root",
        "SlurmdUser=root",
        f"SlurmctldPort={_free_port()}",
        f"SlurmdPort={_free_port()}",
        "AuthType=auth/munge",
        f"StateSaveLocation={folder / 'state'}",
        f"SlurmdSpoolDir={folder / 'spool'}",
        f"SlurmctldPidFile={folder / 'slurmctld.pid'}",
        f"SlurmdPidFile={folder / 'slurmd.pid'}",
        f"SlurmctldLogFile={folder / 'slurmctld.log'}",
        f"SlurmdLogFile={folder / 'slurmd.log'}",
        "ProctrackType=proctrack/linuxproc",
        "TaskPlugin=task/none",
        "SelectType=select/cons_tres",
        "SelectTypeParameters=CR_Core",
        "JobAcctGatherType=jobacct_gather/none",
        "AccountingStorageType=accounting_storage/none",
        "ReturnToService=2",
        "MpiDefault=none",
        f"NodeName={host} CPUs={os.cpu_count()} RealMemory={_memory_mb() // 2} State=UNKNOWN",
        f"PartitionName=tests Nodes={host} Default=YES MaxTime=INFINITE State=UP",
    ]
    conf = folder / "slurm.conf"
    conf.write_text("\n".join(lines) + "\n")
    return conf


def _munge_works() -> bool:
    encoded = subprocess.run(["munge", "-n"], capture_output=True, check=False)
    if encoded.returncode:
        return False
    decoded = subprocess.run(["unmunge"], input=encoded.stdout, capture_output=True, check=False)
    return decoded.returncode == 0


def _start_munge() -> Path | None:
    """munged as the munge user (with a key made if there is none); None if one already runs."""
    if _munge_works():
        return None
    if not MUNGE_KEY.is_file():
        MUNGE_KEY.parent.mkdir(parents=True, exist_ok=True)
        MUNGE_KEY.write_bytes(os.urandom(1024))
    MUNGE_RUN.mkdir(parents=True, exist_ok=True)
    for path in (MUNGE_KEY, MUNGE_RUN):
        shutil.chown(path, "munge", "munge")
    MUNGE_KEY.chmod(0o400)
    subprocess.run(["runuser", "-u", "munge", "--", "munged"], check=True)
    _wait(_munge_works, "munged")
    return MUNGE_RUN / "munged.pid"


def _wait(ready, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not come up within {timeout} s")
        time.sleep(0.3)


def _stop(pid_file: Path | None) -> None:
    if pid_file is not None and pid_file.is_file():
        with suppress(ProcessLookupError, ValueError):
            os.kill(int(pid_file.read_text().split()[0]), signal.SIGTERM)


def start_if_requeued(job_id: str, env: dict[str, str]) -> None:
    """A requeued job waits about two minutes (its BeginTime) before Slurm starts it again;
    the tests start it at once."""
    shown = subprocess.run(
        ["squeue", "--noheader", "--array", "--job", job_id, "--format=%r"],
        env=env,
        capture_output=True,
        text=True,
    )
    reason = shown.stdout.strip()
    if reason == "BeginTime":
        subprocess.run(["scontrol", "update", f"JobId={job_id}", "StartTime=now"], env=env)
    elif "held" in reason.lower():  # a requeue Slurm turned into a hold (JobHeld*, or
        # "launch failed requeued held" after a failed start)
        subprocess.run(["scontrol", "release", job_id], env=env)


def job_state(job_id: str, env: dict[str, str]) -> str:
    """squeue's state and reason of the job and the last lines of slurmctld's log."""
    shown = subprocess.run(
        ["squeue", "--noheader", "--array", "--job", job_id, "--format=%i %T %r"],
        env=env,
        capture_output=True,
        text=True,
    )
    log = Path(env["SLURM_CONF"]).with_name("slurmctld.log")
    tail = log.read_text(errors="replace").splitlines()[-15:] if log.is_file() else []
    return (
        f"squeue: {shown.stdout.strip() or shown.stderr.strip()!r}; slurmctld.log:\n"
        + "\n".join(tail)
    )


@contextmanager
def local_slurm(folder: Path) -> Iterator[dict[str, str]]:
    """Start the cluster; yields the environment that reaches it (SLURM_CONF)."""
    munge_pid = _start_munge()
    conf = write_conf(folder)
    env = {**os.environ, "SLURM_CONF": str(conf)}
    daemons = [folder / "slurmctld.pid", folder / "slurmd.pid"]
    try:
        subprocess.run(["slurmctld", "-f", str(conf)], env=env, check=True)
        subprocess.run(["slurmd", "-f", str(conf)], env=env, check=True)

        def idle() -> bool:
            shown = subprocess.run(
                ["sinfo", "--noheader", "--format=%t"], env=env, capture_output=True, text=True
            )
            return shown.stdout.strip() == "idle"

        _wait(idle, f"the node (logs: {folder})")
        yield env
    finally:
        for pid_file in reversed(daemons):
            _stop(pid_file)
        _stop(munge_pid)
