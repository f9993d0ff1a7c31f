"""The pipeline under DVC itself, in a temporary git repository (slow: real `dvc` runs).

A tiny copy of this repository's pipeline (its synth, cell, identity and summary stages, the
default profile shrunk to one task, one model and a few crops) proves what the README promises:
`dvc repro` runs, a second `dvc repro` is a no-op, the metrics are DVC metrics, and a sweep
queued with `dvc exp run --queue` runs with `dvc queue start`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
TINY_STAGES = ("synth", "cell", "identity", "summary")
pytestmark = pytest.mark.slow


def _run(args: list[str], cwd: Path, timeout: float = 120) -> str:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert done.returncode == 0, f"{' '.join(args)}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def tiny_params(profile: str = "default") -> dict:
    params = yaml.safe_load((REPO / "profiles" / f"{profile}.yaml").read_text())
    params.update(tasks=["haze"], models=["irnext-mini"], seeds=[0], cost_models=["irnext-mini"])
    params["synth"].update(train_count=4, test_count=2, size_px=64)
    params["train"].update(epochs=1, batch_size=2, patch_size=32, num_workers=0)
    params["evaluate"]["device"] = "cpu"
    return params


def make_repo(root: Path, params: dict, stages=TINY_STAGES) -> Path:
    """A git + DVC repository holding the pipeline's stages `stages` and `params`."""
    pipeline = yaml.safe_load((REPO / "dvc.yaml").read_text())
    kept = {name: pipeline["stages"][name] for name in stages}
    (root / "dvc.yaml").write_text(yaml.safe_dump({"stages": kept}, sort_keys=False))
    (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    shutil.copy(REPO / "datasets.yaml", root / "datasets.yaml")
    for folder in ("ablations", "benchmarks"):
        shutil.copytree(REPO / folder, root / folder)
    # The stages depend on the package's modules: link them, so deps resolve to this code.
    (root / "irnext").symlink_to(REPO / "irnext")
    _run(["git", "init", "-q"], root)
    _run(["git", "config", "user.email", "test@example.invalid"], root)
    _run(["git", "config", "user.name", "test"], root)
    _run(["dvc", "init", "-q"], root)
    _run(["git", "add", "-A"], root)
    _run(["git", "commit", "-qm", "tiny pipeline"], root)
    return root


def test_repro_twice_then_a_queued_sweep(tmp_path):
    repo = make_repo(tmp_path, tiny_params())
    _run(["dvc", "repro"], repo, timeout=300)
    metrics = json.loads((repo / "results/metrics/haze.json").read_text())
    assert set(metrics) == {"identity", "irnext-mini"}
    shown = json.loads(_run(["dvc", "metrics", "show", "--json"], repo))
    assert "psnr_db" in json.dumps(shown)
    again = _run(["dvc", "repro"], repo)
    assert "didn't change" in again and "Running stage" not in again
    _run(["git", "add", "-A"], repo)
    _run(["git", "commit", "-qm", "run"], repo)
    # The README's sweep: one queued experiment per value, run by `dvc queue start`.
    _run(["dvc", "exp", "run", "--queue", "-S", "train.lr=0.001,0.01"], repo)
    _run(["dvc", "queue", "start"], repo)
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        status = _run(["dvc", "queue", "status"], repo)
        if "Queued" not in status and "Running" not in status:
            break
        time.sleep(3)
    assert status.count("Success") == 2, status
    table = json.loads(_run(["dvc", "exp", "show", "--json"], repo))
    rates = set(_values(table, "lr", parent="train"))
    assert {0.001, 0.01, tiny_params()["train"]["lr"]} <= rates
    scores = list(_values(table, "psnr_db", parent="irnext-mini"))
    assert len(set(scores)) >= 3  # the committed run and two experiments, each its own score


def _values(node, key: str, *, parent: str):
    """Every node[parent][key] anywhere in a nested JSON value."""
    if isinstance(node, dict):
        if isinstance(node.get(parent), dict) and key in node[parent]:
            yield node[parent][key]
        for child in node.values():
            yield from _values(child, key, parent=parent)
    elif isinstance(node, list):
        for child in node:
            yield from _values(child, key, parent=parent)
