"""Training faults end in a named error or one line, never a raw traceback, a NaN checkpoint,
a lost curve or a replaced file: bad recipe values, a diverged last step, two outputs on one
path, resuming on other data, dvclive on a full disk or resumed, and Ctrl-C."""

from __future__ import annotations

import dataclasses
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest
import torch

import irnext
from irnext.cli import main
from irnext.data import open_dataset
from irnext.errors import InputError
from irnext.training import TrainConfig, TrainingDiverged, train
from irnext.training.outputs import RunFiles
from tests.reliability._faults import ENOSPC, ROOT, failing


def _argv(root, out, *extra):
    argv = ["train", "--model", "irnext-test", "--dataset", "synth-haze", "--root", str(root)]
    argv += ["--epochs", "1", "--batch-size", "2", "--patch-size", "32", "--lr", "0.002"]
    argv += ["--warmup-epochs", "0", "--num-workers", "0", "--device", "cpu"]
    return [*argv, "--progress", "none", "--out", str(out), *extra]


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--grad-clip", "nan"], "grad_clip must be a finite number, got nan"),
        (["--weight-decay", "nan"], "weight_decay must be a finite number, got nan"),
        (["--weight-decay", "-1"], "weight_decay must be >= 0, got -1.0"),
        (["--lr", "inf"], "lr must be a finite number, got inf"),
        (["--seed", str(2**64)], f"seed must be in \\[0, 2\\*\\*64\\), got {2**64}"),
        (["--seed", "-1"], "seed must be in \\[0, 2\\*\\*64\\), got -1"),
        # irnext-test: size_multiple 16 (two levels x pool 4), min_size 32 (LAM pad 1)
        (["--patch-size", "16"], "patch_size 16 does not fit IRNeXt: .* at least its min_size 32"),
        (["--patch-size", "40"], "patch_size 40 does not fit IRNeXt: expected a multiple of .* 16"),
    ],
)  # fmt: skip
def test_bad_recipe_values_are_named_errors_before_work(
    tiny_haze, tmp_path, capsys, flags, message
):
    import re

    out = tmp_path / "m.pt"
    assert main(_argv(tiny_haze, out, *flags)) == 2
    error = capsys.readouterr().err
    assert "Traceback" not in error and re.search(message, error), error
    assert not out.exists()


def test_the_model_sizes_in_the_crop_rule_are_those_of_the_architecture():
    # Independent of the rule: irnext-test's pooled maps are 1/4 x 1/4 (two stride-2 levels)
    # then 1/4 (largest pool 4), and its LAM reflection-pads 1 pixel (filter kernel 3).
    model = irnext.create_model("irnext-test")
    assert (model.size_multiple, model.min_size) == (16, 32)
    with pytest.raises(RuntimeError):  # what --patch-size 16 hit before: torch's padding error
        model(torch.rand(2, 3, 16, 16))


def test_nan_weights_after_the_last_step_are_never_saved(tiny_haze, tmp_path):
    # The case: a NaN clipping norm (what --grad-clip nan passed before) turns every
    # gradient and so every weight into NaN, while the step's loss, computed before, is finite.
    config = TrainConfig(epochs=1, batch_size=6, patch_size=32, warmup_epochs=0, num_workers=0)
    object.__setattr__(config, "grad_clip", float("nan"))  # past the recipe's own check
    model = irnext.create_model("irnext-test")
    out = tmp_path / "m.pt"
    files = RunFiles(model, out=out, training={}, describe={})
    dataset = open_dataset("synth-haze", tiny_haze, split="train")  # 6 pairs: one step
    with pytest.raises(TrainingDiverged, match="the weights .* NaN or infinite .* at step 1"):
        train(model, dataset, config, hooks=files)
    assert not out.exists()


def test_a_diverged_last_step_exits_non_zero_naming_the_step(
    tiny_haze, tmp_path, monkeypatch, capsys
):
    import irnext.training.loop as loop

    real = loop.train_step

    def diverging(forward, *args, **kwargs):  # a finite loss, then NaN weights
        loss = real(forward, *args, **kwargs)
        with torch.no_grad():
            next(forward.parameters()).fill_(float("nan"))
        return loss

    monkeypatch.setattr(loop, "train_step", diverging)
    out = tmp_path / "m.pt"
    assert main(_argv(tiny_haze, out, "--batch-size", "6")) == 2
    error = capsys.readouterr().err
    assert "NaN or infinite values at step 1: training diverged" in error, error
    assert not out.exists()


@pytest.mark.parametrize(
    "extra, named",
    [
        (["--history", "{out}"], "--out and --history both name"),
        (["--timing", "{dir}/h.json", "--history", "{dir}/./h.json"], "--history and --timing"),
        (["--val-split", "train", "--history", "{dir}/m.best.pt"], "beside --out .* and --history"),
    ],
)
def test_two_outputs_on_one_path_are_refused_before_work(tiny_haze, tmp_path, capsys, extra, named):
    import re

    out = tmp_path / "m.pt"
    extra = [arg.format(out=out, dir=tmp_path) for arg in extra]
    started = time.perf_counter()
    assert main(_argv(tiny_haze, out, *extra)) == 2
    assert time.perf_counter() - started < 1.0  # before the model or the data are opened
    error = capsys.readouterr().err
    assert re.search(named, error) and "must be a different file" in error, error
    assert list(tmp_path.iterdir()) == []


def _interrupted(tmp_path, root, out, monkeypatch, *, at_call, extra):
    """Run `irnext train` in this process, Ctrl-C arriving during step `at_call`."""
    import irnext.training.loop as loop

    real, calls = loop.train_step, []

    def interrupted(*args, **kwargs):
        calls.append(1)
        if len(calls) == at_call:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(loop, "train_step", interrupted)
        return main(_argv(root, out, *extra))


def test_resuming_on_another_root_or_changed_files_is_refused_naming_both(
    tiny_haze, tmp_path, capsys, monkeypatch
):
    root = tmp_path / "data"
    shutil.copytree(tiny_haze, root)
    out = tmp_path / "m.pt"
    extra = ["--save-every-steps", "1"]
    assert _interrupted(tmp_path, root, out, monkeypatch, at_call=2, extra=extra) == 130
    capsys.readouterr()
    other = tmp_path / "other"
    shutil.copytree(tiny_haze, other)
    assert main(_argv(other, out, *extra, "--resume", str(out))) == 2
    error = capsys.readouterr().err
    assert f"trained on the dataset at {root.resolve()}" in error
    assert f"--root is {other.resolve()}" in error
    (root / "train" / "input" / "000.png").write_bytes(b"")  # a file changed under the run
    assert main(_argv(root, out, *extra, "--resume", str(out))) == 2
    assert "file list sha256" in capsys.readouterr().err
    assert irnext.load_checkpoint(out)[1]["resume"]["step"] == 1  # left as it was


def _curve(folder):
    header, *rows = (folder / "plots" / "metrics" / "train" / "loss.tsv").read_text().splitlines()
    assert header.split("\t") == ["step", "loss"]
    return [(int(step), float(value)) for step, value in (row.split("\t") for row in rows)]


def test_resuming_with_dvclive_continues_its_curve(tiny_haze, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    flags = ["--save-every-steps", "2", "--log-every", "1", "--repeats-per-epoch", "2"]
    assert main(_argv(tiny_haze, tmp_path / "a.pt", *flags, "--dvclive", "a")) == 0
    straight = _curve(tmp_path / "a")
    assert [step for step, _ in straight] == [1, 2, 3, 4, 5, 6]
    out, live = tmp_path / "b.pt", ["--dvclive", "b"]
    # Ctrl-C during step 4: steps 1-3 logged, the checkpoint is that of step 2.
    assert _interrupted(tmp_path, tiny_haze, out, monkeypatch, at_call=4, extra=flags + live) == 130
    assert [step for step, _ in _curve(tmp_path / "b")] == [1, 2, 3]
    assert main(_argv(tiny_haze, out, *flags, *live, "--resume", str(out))) == 0
    resumed = _curve(tmp_path / "b")
    assert [step for step, _ in resumed] == [1, 2, 3, 4, 5, 6]
    assert resumed == straight  # a resumed run is the same run, step by step


def test_a_full_disk_under_dvclive_is_named_and_keeps_the_step_checkpoint(
    tiny_haze, tmp_path, capsys, monkeypatch
):
    import builtins

    import dvclive.plots.metric as metric

    appends = []

    def full(path, mode="r", *args, **kwargs):  # the third metric row on: no space left
        appends.append(path)
        return len(appends) > 2

    real_open = builtins.open
    monkeypatch.setattr(metric, "open", failing(real_open, ENOSPC, when=full), raising=False)
    out = tmp_path / "m.pt"
    flags = ["--save-every-steps", "1", "--log-every", "2", "--dvclive", str(tmp_path / "live")]
    assert main(_argv(tiny_haze, out, *flags)) == 2
    error = capsys.readouterr().err
    assert "Traceback" not in error
    assert f"{tmp_path / 'live'}: dvclive could not write its metrics (No space left" in error
    assert f"step 1, left as it was: {out} (continue with --resume {out})" in error
    assert irnext.load_checkpoint(out)[1]["resume"]["step"] == 1


def test_ctrl_c_during_training_prints_one_line_naming_the_checkpoint(tiny_haze, tmp_path):
    out = tmp_path / "m.pt"
    argv = [sys.executable, "-m", "irnext", *_argv(tiny_haze, out, "--save-every-steps", "1")]
    argv += ["--repeats-per-epoch", "100"]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(argv, env=env, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not out.exists():
        assert process.poll() is None and time.monotonic() < deadline, process.stderr.read()
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    _, error = process.communicate(timeout=60)
    assert process.returncode == 130
    lines = error.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in error, error
    step = irnext.load_checkpoint(out)[1]["resume"]["step"]
    assert lines[0] == (
        f"irnext train: interrupted; the last good checkpoint, step {step}, left as it was: "
        f"{out} (continue with --resume {out})"
    )


def test_a_recipe_is_checked_by_the_one_path_dataclasses_replace_takes():
    with pytest.raises(InputError, match="weight_decay must be a finite number"):
        dataclasses.replace(TrainConfig(), weight_decay=float("nan"))


def test_a_step_checkpoint_without_a_data_record_resumes_with_a_warning(
    tiny_haze, tmp_path, monkeypatch
):
    out = tmp_path / "m.pt"
    flags = ["--save-every-steps", "1"]
    assert _interrupted(tmp_path, tiny_haze, out, monkeypatch, at_call=2, extra=flags) == 130
    payload = torch.load(out, weights_only=True)
    del payload["resume"]["data"]  # as written before the data was recorded
    torch.save(payload, out)
    with pytest.warns(UserWarning, match="m.pt: a checkpoint without a record of its training"):
        assert main(_argv(tiny_haze, out, *flags, "--resume", str(out))) == 0
    assert irnext.load_checkpoint(out)[1]["resume"]["data"]["root"] == str(tiny_haze.resolve())
