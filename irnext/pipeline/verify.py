"""Did a cell finish cleanly? Only then may its stage be recorded in dvc.lock.

Clean means: its job says done, every output of the stage exists and was written by this
launch, its JSON outputs parse, and a trained cell's checkpoint holds the very weights its
training history names (`weights_sha256`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from irnext.pipeline.jobs import read_record, submitit_files

CLOCK_SLACK_S = 2.0  # file systems' time stamps may lag the clock the launch read


def check_cell(root: Path, cell: dict[str, Any], started: float, logs: Path) -> str | None:
    """None when the cell is clean, else why not (with its log where there is one); `logs`
    is the launch's submitit folder."""
    record = read_record(Path(cell["folder"]))
    if record is None and cell.get("job_id") is None:
        return "never submitted"
    if record is None:
        return f"never started; log: {submitit_files(logs, cell['job_id']).stderr}"
    if record.get("state") != "done":
        return f"{record.get('state')}; log: {record.get('log', 'none')}"
    for out in cell["outs"]:
        problem = _check_out(root / out, started)
        if problem:
            return f"{out}: {problem}"
    if cell.get("checkpoint"):
        return _check_weights(root, cell)
    return None


def _check_out(path: Path, started: float) -> str | None:
    if not path.exists():
        return "missing"
    files = [f for f in path.rglob("*") if f.is_file()] if path.is_dir() else [path]
    if not files:
        return "an empty folder"
    newest = max(f.stat().st_mtime for f in files)
    if newest < started - CLOCK_SLACK_S:
        return "not written by this launch"
    for file in files:
        if file.suffix == ".json":
            try:
                json.loads(file.read_text())
            except ValueError as error:
                return f"{file.name} is not valid JSON ({error})"
    return None


def _check_weights(root: Path, cell: dict[str, Any]) -> str | None:
    from irnext.checkpoint import load_checkpoint, weights_sha256

    payloads = [
        json.loads((root / out).read_text())
        for out in cell["outs"]
        if out.endswith(".json") and (root / out).is_file()
    ]
    named = [p.get("weights_sha256") for p in payloads if isinstance(p, dict)]
    named = [sha for sha in named if sha]
    if not named:
        return "no training history naming the weights' hash among the outputs"
    model, _ = load_checkpoint(root / cell["checkpoint"])
    actual = weights_sha256(model.state_dict())
    if any(sha != actual for sha in named):
        return f"{cell['checkpoint']}: weights {actual[:12]} differ from the history's"
    return None
