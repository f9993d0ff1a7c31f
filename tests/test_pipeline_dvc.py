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
    study = Path("results/budget/budget.csv")  # committed beside the pipeline; the report reads it
    (root / study).parent.mkdir(parents=True)
    shutil.copy(REPO / study, root / study)
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


ALL_STAGES = tuple(yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"])


def _shrink_cost(params: dict, models: list[str]) -> None:
    params["cost_models"] = models
    params["complexity"]["size"] = 64
    params["latency"].update(runs=1, warmup=0, scaling_models=models, scaling_sizes=[64, 128])


def test_the_gpu_profile_runs_end_to_end_on_cpu_when_shrunk(tmp_path):
    params = tiny_params("gpu")
    del params["requires"]  # shrunk to fit the CPU: no longer needs CUDA
    params["models"] = ["irnext", "nafnet-w32"]  # irnext: the haze task's irnext-dehaze
    params["train"]["precision"] = "fp32"  # bf16 autocast on CPU is slow, not different wiring
    params["train"]["patch_size"] = 64  # the paper IRNeXt pools a quarter-scale map by 8
    _shrink_cost(params, ["irnext-dehaze", "nafnet-w32"])
    params["ablate"].update(studies=["depth"], seeds=[0, 1], epochs=1)
    repo = make_repo(tmp_path, params, ALL_STAGES)
    _run(["dvc", "repro"], repo, timeout=600)
    metrics = json.loads((repo / "results/metrics/haze.json").read_text())
    assert set(metrics) == {"identity", "irnext", "nafnet-w32"}
    history = json.loads((repo / "results/train/haze/irnext-s0.json").read_text())
    assert history["model"] == "irnext-dehaze"
    study = json.loads((repo / "results/ablations/depth.json").read_text())
    assert study["base_model"] == "irnext-dehaze" and study["seeds"] == [0, 1]
    assert sorted(p.name for p in (repo / "results/latency").iterdir()) == [
        "irnext-dehaze.json",
        "nafnet-w32.json",
    ]
    assert (repo / "results/report.md").is_file()


def test_the_paper_profile_runs_end_to_end_on_cpu_when_shrunk(tmp_path):
    import numpy as np
    import torch

    from irnext.data import write_image
    from irnext.models.irnext import IRNeXt
    from irnext.models.official import to_official

    rng = np.random.default_rng(0)
    for name, split_count in (("rain13k", 4), ("rain100l", 2)):
        for index in range(1, split_count + 1):
            clean = rng.random((64, 64, 3)).astype(np.float32)
            write_image(tmp_path / "sets" / name / "target" / f"{index}.png", clean)
            write_image(tmp_path / "sets" / name / "input" / f"{index}.png", clean * 0.8)
    torch.manual_seed(0)
    (tmp_path / "repo" / "weights").mkdir(parents=True)
    official = {"model": to_official(IRNeXt(num_res=4).state_dict())}
    torch.save(official, tmp_path / "repo" / "weights" / "irnext.pkl")
    params = tiny_params("paper")
    # One shrunk recipe for every model (`shared`): the authors' own recipes run ~1 M steps.
    params.update(tasks=["rain"], models=["nafnet-w32"], recipe="shared", baselines={})
    params["paper"] = {"rain": {"train": "rain13k", "recipe": "rain13k", "test": ["rain100l"]}}
    params["train"].update(warmup_epochs=0, patch_size=64)  # 64: the paper IRNeXt's smallest
    params["ablate"].update(task="rain", studies=["depth"], seeds=[0], epochs=1)
    params["pretrained"] = {
        "irnext-official": {"weights": "weights/irnext.pkl", "kind": "irnext", "task": "rain"}
    }
    _shrink_cost(params, ["nafnet-w32"])
    repo = make_repo(tmp_path / "repo", params, ALL_STAGES)
    roots = {name: str(tmp_path / "sets" / name) for name in ("rain13k", "rain100l")}
    (repo / "datasets.yaml").write_text(yaml.safe_dump({"datasets": roots}))
    _run(["dvc", "repro"], repo, timeout=600)
    summary = repo / "results/evaluate/rain/nafnet-w32-s0/summary.json"
    assert json.loads(summary.read_text())["dataset"] == "rain100l"
    history = json.loads((repo / "results/train/rain/nafnet-w32-s0.json").read_text())
    assert history["dataset"] == "rain13k"
    official_summary = repo / "results/pretrained/irnext-official/rain100l/summary.json"
    assert json.loads(official_summary.read_text())["count"] == 2
