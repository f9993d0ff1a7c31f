"""Step checkpoints survive SIGKILL: a run killed at a random moment resumes from its last
step checkpoint and ends with exactly the weights and history of the uninterrupted run."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time

import pytest
import torch

import irnext
from irnext.cli import main


def _argv(root, out, history):
    argv = [sys.executable, "-m", "irnext", "train", "--model", "irnext-test"]
    argv += ["--dataset", "synth-haze", "--root", str(root), "--epochs", "2", "--batch-size"]
    argv += ["2", "--patch-size", "32", "--lr", "0.002", "--warmup-epochs", "1"]
    argv += ["--repeats-per-epoch", "6", "--num-workers", "0", "--device", "cpu"]
    argv += ["--deterministic", "true", "--save-every-steps", "1", "--progress", "none"]
    return [*argv, "--out", str(out), "--history", str(history)]


_ENV = {**os.environ, "OMP_NUM_THREADS": "1"}


def _kill_after_first_checkpoint(argv, out) -> float:
    process = subprocess.Popen(argv, env=_ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 300
    while not out.exists():
        assert process.poll() is None, process.stderr.read().decode()[-2000:]
        assert time.monotonic() < deadline
        time.sleep(0.01)
    moment = random.uniform(0.0, 0.3)
    time.sleep(moment)
    process.kill()  # SIGKILL: no handler, no flush, possibly mid-write
    assert process.wait() == -signal.SIGKILL, "the run ended before it could be killed"
    return moment


@pytest.mark.slow
def test_a_run_killed_at_a_random_step_resumes_to_the_same_weights(tiny_haze, tmp_path):
    straight = tmp_path / "straight.pt"
    done = subprocess.run(_argv(tiny_haze, straight, tmp_path / "straight.json"), env=_ENV)
    assert done.returncode == 0
    out, history = tmp_path / "killed.pt", tmp_path / "killed.json"
    moment = _kill_after_first_checkpoint(_argv(tiny_haze, out, history), out)
    _, info = irnext.load_checkpoint(out)  # whatever the moment, the file is whole
    step = info["resume"]["step"]
    assert 1 <= step <= 36, (moment, step)  # 2 epochs of 6 passes of 3 batches
    resumed = subprocess.run([*_argv(tiny_haze, out, history), "--resume", str(out)], env=_ENV)
    assert resumed.returncode == 0
    a = torch.load(straight, weights_only=True)["state_dict"]
    b = torch.load(out, weights_only=True)["state_dict"]
    for key in a:
        assert torch.equal(a[key], b[key]), (key, moment, step)
    a_log, b_log = (json.loads(p.read_text()) for p in (tmp_path / "straight.json", history))
    assert a_log["epochs"] == b_log["epochs"] and a_log["weights_sha256"] == b_log["weights_sha256"]


def test_a_step_checkpoint_holds_the_position_every_generator_and_the_optimiser(
    tiny_haze, tmp_path
):
    out = tmp_path / "m.pt"
    argv = _argv(tiny_haze, out, tmp_path / "h.json")[3:]
    argv[argv.index("--epochs") + 1] = "1"
    argv[argv.index("--repeats-per-epoch") + 1] = "1"
    argv[argv.index("--save-every-steps") + 1] = "2"
    assert main(argv) == 0  # 3 steps: step checkpoint at 2, then the end
    _, info = irnext.load_checkpoint(out)
    resume = info["resume"]
    assert (resume["epoch"], resume["batch"], resume["step"]) == (1, 0, 3)
    assert set(resume["rng"]) >= {"python", "numpy", "torch"}
    assert len(resume["optimizer"]["state"]) == len(
        list(irnext.create_model("irnext-test").parameters())
    )
    assert info["training"]["step"] == 3


def test_resume_refuses_other_model_keywords_naming_the_key_and_both_values(
    tiny_haze, tmp_path, capsys
):
    out = tmp_path / "m.pt"
    argv = _argv(tiny_haze, out, tmp_path / "h.json")[3:]
    argv[argv.index("--epochs") + 1] = "1"
    argv[argv.index("--repeats-per-epoch") + 1] = "1"
    assert main(argv) == 0
    again = [*argv, "--resume", str(out), "--model-kwargs", '{"lam": false}']
    assert main(again) == 2
    error = capsys.readouterr().err
    assert "lam=True" in error and "lam=False" in error, error
