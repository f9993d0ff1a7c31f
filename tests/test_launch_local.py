"""`irnext bench launch` with submitit's local executor on a miniature pipeline (real DVC,
real training): two cells at once, one preempted and requeued, both recorded in dvc.lock.

The miniature is test_pipeline_dvc's (one task, one model, tiny synthetic data) with two
seeds, so the pipeline has two cells and the downstream stages identity and summary.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import time
from functools import partial
from pathlib import Path
from subprocess import call

import pytest
import torch

from irnext.checkpoint import load_checkpoint, save_checkpoint, weights_sha256
from irnext.errors import InputError
from irnext.models.registry import create_model
from irnext.pipeline import launch, status
from irnext.pipeline.jobs import STEP_CHECKPOINT, CellPlan, preemption_signal, read_record
from tests.test_pipeline_dvc import _run, make_repo, tiny_params

CELLS = ("cell@haze-irnext-mini-0", "cell@haze-irnext-mini-1")
PREEMPTED = CELLS[1]


def miniature(root: Path, epochs: int = 6) -> Path:
    """6 epochs: 12 steps of 2 crops, time to preempt a cell mid-training."""
    params = tiny_params()
    params["seeds"] = [0, 1]
    params["train"]["epochs"] = epochs
    root.mkdir()
    repo = make_repo(root, params)
    _run(["dvc", "repro", "synth@haze"], repo)
    return repo


def _until(condition, what: str, timeout: float = 90) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def _cell_folder(repo: Path, stage: str) -> Path | None:
    found = list((repo / ".irnext/launch").glob(f"*/cells/{stage}"))
    return found[0] if found else None


def saved_step(repo: Path, stage: str = PREEMPTED) -> tuple[dict, int]:
    """Once the cell has written a step checkpoint: its record and the step it holds."""
    folder = _until(lambda: _cell_folder(repo, stage), "the cell's folder")
    _until(lambda: (folder / STEP_CHECKPOINT).is_file(), "a step checkpoint")
    step = torch.load(folder / STEP_CHECKPOINT, weights_only=False)["training"]["step"]
    return read_record(folder), step


def _preempt_mid_training(repo: Path) -> int:
    """Send the cell's job submitit's preemption signal (what Slurm sends before a time
    limit) once it has saved a step; returns that step."""
    record, step = saved_step(repo)
    os.kill(record["pid"], preemption_signal())
    return step


def _reference_weights(repo: Path, tmp: Path) -> str:
    """The cell trained without interruption by the stage's own `irnext train` command (as
    `irnext bench cell --dry-run` prints it), to a file of its own."""
    printed = _run(
        ["irnext", "bench", "cell", "--task", "haze", "--model", "irnext-mini"]
        + ["--seed", "1", "--dry-run"],
        repo,
    )
    train = shlex.split(printed.splitlines()[0])
    assert train[:2] == ["irnext", "train"]
    train = train[: train.index("--out")] + ["--out", str(tmp / "reference.pt")]
    _run(train, repo)
    return weights_sha256(load_checkpoint(tmp / "reference.pt")[0].state_dict())


@pytest.mark.slow
def test_two_cells_at_once_one_preempted_then_recorded(tmp_path):
    repo = miniature(tmp_path / "repo")
    command = ["irnext", "bench", "launch", "--max-parallel", "2", "--save-every-steps", "2"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    launcher = subprocess.Popen(command, cwd=repo, env=env, stdout=subprocess.PIPE, text=True)
    saved_step = _preempt_mid_training(repo)
    out, _ = launcher.communicate(timeout=240)
    assert launcher.returncode == 0, out
    assert all(f"recorded in dvc.lock: {cell}" in out for cell in CELLS), out
    assert all(f"{cell}: running" in out and f"{cell}: done" in out for cell in CELLS), out

    records = {cell: read_record(_cell_folder(repo, cell)) for cell in CELLS}
    starts = [r["attempts"][0] for r in records.values()]
    ends = [r["ended"] for r in records.values()]
    assert max(starts) < min(ends), records  # the two cells ran at the same time
    preempted = records[PREEMPTED]
    assert preempted["state"] == "done" and len(preempted["attempts"]) == 2
    # the second attempt resumed from a step checkpoint at or after the one seen saved
    assert preempted["resumed_from"][0] is None and preempted["resumed_from"][1] >= saved_step
    assert preempted["attempts"][0] < preempted["requeued"] < preempted["attempts"][1]
    assert "Requeued job" in Path(preempted["stdout"]).read_text()  # submitit's own log line

    model, info = load_checkpoint(repo / "models/haze/irnext-mini-s1.pt")
    assert info["training"]["step"] == 12
    assert weights_sha256(model.state_dict()) == _reference_weights(repo, tmp_path)

    shown = _run(["irnext", "bench", "launch", "--status"], repo)
    assert all(f"{cell}: done" in shown for cell in CELLS), shown
    lock = (repo / "dvc.lock").read_text()
    assert all(cell in lock for cell in CELLS)
    first = _run(["dvc", "repro"], repo)
    ran = sorted(line.split("'")[1] for line in first.splitlines() if "Running stage" in line)
    assert ran == ["identity@haze", "summary@haze"], first
    assert "Running stage" not in _run(["dvc", "repro"], repo)


def _state(tmp_path: Path, cells: dict) -> dict:
    return {"id": "t", "started": time.time() - 60, "folder": str(tmp_path), "cells": cells}


def _cell(tmp_path: Path, name: str, record: dict | None, outs=(), job_id="7") -> dict:
    folder = tmp_path / name
    folder.mkdir()
    if record is not None:
        (folder / "record.json").write_text(json.dumps({"stage": name, **record}))
    return {"folder": str(folder), "outs": list(outs), "checkpoint": None, "job_id": job_id}


def test_failed_and_missing_cells_are_named_and_never_committed(tmp_path):
    (tmp_path / "results").mkdir()
    (tmp_path / "results/ok.json").write_text("{}")
    cells = {
        "ablate@ok": _cell(tmp_path, "ok", {"state": "done"}, outs=["results/ok.json"]),
        "ablate@failed": _cell(tmp_path, "failed", {"state": "failed", "log": "/x/7_0_log.err"}),
        "ablate@lost": _cell(tmp_path, "lost", {"state": "done"}, outs=["results/lost.json"]),
        "ablate@never": _cell(tmp_path, "never", None),
    }
    clean, failed = launch.check_cells(tmp_path, _state(tmp_path, cells))
    assert clean == ["ablate@ok"]
    assert failed["ablate@failed"] == "failed; log: /x/7_0_log.err"
    assert failed["ablate@lost"] == "results/lost.json: missing"
    assert failed["ablate@never"] == f"never started; log: {tmp_path}/submitit/7_0_log.err"


def test_status_shows_queued_running_step_and_failed_log(tmp_path):
    running = _cell(tmp_path, "running", {"state": "running", "host": "elsewhere", "pid": 1})
    model = create_model("irnext-test")
    save_checkpoint(Path(running["folder"]) / STEP_CHECKPOINT, model, training={"step": 7})
    cells = {
        "cell@a": _cell(tmp_path, "queued", None),
        "cell@b": running,
        "cell@c": _cell(tmp_path, "failed", {"state": "failed", "log": "/x/9_0_log.err"}),
        "cell@d": _cell(tmp_path, "died", None, job_id="8"),
    }
    # submitit wrote job 8's result (an error) before the cell's first line ran
    (tmp_path / "submitit").mkdir()
    (tmp_path / "submitit/8_0_result.pkl").write_bytes(b"")
    shown = status.format_states(status.cell_states(tmp_path, _state(tmp_path, cells)))
    assert shown.splitlines() == [
        "cell@a: queued  [job 7]",
        "cell@b: running (step 7)  [job 7]",
        "cell@c: failed, log: /x/9_0_log.err  [job 7]",
        f"cell@d: failed, log: {tmp_path}/submitit/8_0_log.err  [job 8]",
    ]
    # a new launch waits for these: the queued and the running one
    (tmp_path / launch.STATE).parent.mkdir(parents=True)
    (tmp_path / launch.STATE).write_text(json.dumps(_state(tmp_path, cells)))
    assert status.unfinished(tmp_path) == ["cell@a", "cell@b"]


def test_each_local_cell_sees_only_its_own_gpus(tmp_path):
    # CUDA_VISIBLE_DEVICES is what pins a process to GPUs: no GPU is needed to check that
    # two cells at once with two GPUs each are given disjoint halves of four.
    state = launch.new_launch(tmp_path, "local")
    plans = []
    for name in ("cell@a", "cell@b", "cell@c"):
        folder = launch.cell_folder(tmp_path, state, name)
        shown = ["sh", "-c", f"echo $CUDA_VISIBLE_DEVICES > '{folder}/gpus'; sleep 1"]
        plans.append(CellPlan(name, str(tmp_path), str(folder), (), steps=[partial(call, shown)]))
    options = launch.LaunchOptions(gpus_per_cell=2, max_parallel=2, gpus=(0, 1, 2, 3), poll_s=0.1)
    launch.run_jobs(tmp_path, state, plans, options)
    seen = [(Path(plan.folder) / "gpus").read_text().strip() for plan in plans]
    assert seen[:2] == ["0,1", "2,3"]
    assert seen[2] in ("0,1", "2,3")  # the third reuses the slot of whichever ended first
    records = [read_record(Path(plan.folder)) for plan in plans]
    assert all(record["state"] == "done" for record in records)
    # never more than two at once: the third starts after one of the first two ended
    assert records[2]["attempts"][0] >= min(r["ended"] for r in records[:2])


def test_more_gpus_than_the_machine_has_is_refused():
    options = launch.LaunchOptions(gpus_per_cell=2, max_parallel=2, gpus=(0, 1))
    with pytest.raises(InputError, match="2 cells x 2 GPU"):
        options.check()


def test_cells_wait_for_their_stale_inputs_and_changed_deps_are_seen(tmp_path):
    import yaml

    from irnext.pipeline.stale import fingerprints, stale_stages

    repo = make_repo(tmp_path, tiny_params())  # nothing run yet: synth@haze is stale too
    with pytest.raises(InputError, match=r"stale stage\(s\) synth@haze.*dvc repro synth@haze"):
        stale_stages(repo)
    cell = "cell@haze-irnext-mini-0"
    before = fingerprints(repo, [cell])[cell]
    params = yaml.safe_load((repo / "params.yaml").read_text())
    params["latency"]["runs"] += 1  # a section the cell does not depend on
    (repo / "params.yaml").write_text(yaml.safe_dump(params))
    assert fingerprints(repo, [cell])[cell] == before
    params["train"]["lr"] *= 2  # its recipe
    (repo / "params.yaml").write_text(yaml.safe_dump(params))
    assert fingerprints(repo, [cell])[cell] != before


def test_a_cell_of_two_gpus_splits_the_batch_over_two_torchrun_processes():
    from irnext.cli.launch import _per_gpu_batch

    train = ["train", "--batch-size", "4", "--out", "m.pt"]
    assert _per_gpu_batch(train, 1) == train
    assert _per_gpu_batch(train, 2) == ["train", "--batch-size", "2", "--out", "m.pt"]
    with pytest.raises(InputError, match="batch_size 4 does not split over 3 GPUs"):
        _per_gpu_batch(train, 3)


@pytest.mark.slow
def test_a_two_process_cell_trains_what_one_process_trains(tiny_haze, tmp_path, monkeypatch):
    # torchrun with gloo on the CPU stands in for two GPUs: the job's launcher command, the
    # halved per-process batch and the step checkpoint under --out are what is checked here;
    # tests/test_distributed.py checks the engine's data parallelism itself.
    from irnext.pipeline.jobs import CellJob

    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    monkeypatch.chdir(tmp_path)  # the job moves into its root; the test's cwd comes back
    common = ["--model", "irnext-test", "--dataset", "synth-haze", "--root", str(tiny_haze)]
    common += ["--epochs", "2", "--patch-size", "32", "--lr", "0.002", "--warmup-epochs", "0"]
    common += ["--num-workers", "0", "--device", "cpu", "--progress", "none"]
    common += ["--repeats-per-epoch", "2"]  # two passes of 6 crops: 2 global batches of 4
    train = ["train", *common, "--batch-size", "2", "--out", "models/two.pt"]
    train += ["--history", "two.json"]
    plan = CellPlan("cell@two", str(tmp_path), str(tmp_path / "job"), (), train=train, gpus=2)
    assert CellJob(plan)() == "cell@two"
    single = ["irnext", "train", *common, "--batch-size", "4", "--out", "one.pt"]
    _run([*single, "--history", "one.json"], tmp_path)
    two, one = (json.loads((tmp_path / f"{n}.json").read_text()) for n in ("two", "one"))
    assert [e["steps"] for e in two["epochs"]] == [e["steps"] for e in one["epochs"]] == [2, 2]
    for a, b in zip(two["epochs"], one["epochs"], strict=True):
        assert a["loss"] == pytest.approx(b["loss"], rel=1e-6)  # the same global batches
    assert (tmp_path / "models/two.pt").is_file() and not (tmp_path / "job/train.pt").exists()
