"""Where each cell of the latest launch stands: queued, running (at which training step),
requeued, done, or failed (with its log), read from the files the jobs write."""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any

from irnext.pipeline.jobs import STEP_CHECKPOINT, read_record, submitit_files, training_step


def cell_states(root: Path, state: dict[str, Any], steps: bool = True) -> list[dict[str, Any]]:
    """One row per cell: stage, state, step (running; read unless `steps` is False), log
    (failed), job id."""
    from irnext.pipeline.launch import logs_folder

    rows = []
    for stage, cell in state["cells"].items():
        record = read_record(Path(cell["folder"])) or {}
        row = {"stage": stage, "job_id": cell.get("job_id"), "state": record.get("state")}
        if row["state"] is None and cell.get("job_id"):
            files = submitit_files(logs_folder(root, state), cell["job_id"])
            ended = files.result_pickle.exists()  # ended before its first line ran
            row["state"] = "failed" if ended else "queued"
            record = {"log": str(files.stderr)}
        elif row["state"] is None:
            row["state"] = "not submitted"
        elif row["state"] == "running" and _vanished(record):
            row["state"] = "failed"
            row["why"] = "its process is gone"
        if steps and row["state"] in ("running", "requeued"):
            row["step"] = training_step(Path(cell["folder"]) / STEP_CHECKPOINT)
        if row["state"] == "failed":
            row["log"] = record.get("log")
        rows.append(row)
    return rows


def printer(root: Path, state: dict[str, Any]):
    """A function printing each cell whose state changed since it last ran (launch progress)."""
    seen: dict[str, str] = {}

    def show() -> None:
        for row in cell_states(root, state, steps=False):
            if seen.get(row["stage"]) != row["state"]:
                seen[row["stage"]] = row["state"]
                print(format_states([row]), flush=True)

    return show


def unfinished(root: Path) -> list[str]:
    """The cells of the latest launch that are queued, running or requeued (none: [])."""
    from irnext.pipeline.launch import STATE, read_state

    if not (Path(root) / STATE).is_file():
        return []
    rows = cell_states(root, read_state(root))
    return [row["stage"] for row in rows if row["state"] in ("queued", "running", "requeued")]


def _vanished(record: dict[str, Any]) -> bool:
    """A running record whose process, on this host, no longer exists (killed)."""
    if record.get("host") != socket.gethostname() or "pid" not in record:
        return False  # another node's process: only its scheduler knows
    try:
        os.kill(int(record["pid"]), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def format_states(rows: list[dict[str, Any]]) -> str:
    lines = []
    for row in rows:
        text = f"{row['stage']}: {row['state']}"
        if row.get("step") is not None:
            text += f" (step {row['step']})"
        if row.get("why"):
            text += f" ({row['why']})"
        if row.get("log"):
            text += f", log: {row['log']}"
        lines.append(text + (f"  [job {row['job_id']}]" if row.get("job_id") else ""))
    return "\n".join(lines)
