"""The engine's guarantees: byte-identical files for the same seed, best and last checkpoints,
loud failures (NaN loss, out of memory, unwritable outputs, mistyped values), bf16, dvclive."""

from __future__ import annotations

import dataclasses
import json

import pytest
import torch

import irnext
from irnext.cli import main
from irnext.data import open_dataset
from irnext.errors import InputError
from irnext.training import EngineOptions, TrainConfig, train


def _argv(root, out, *extra):
    argv = ["train", "--model", "irnext-test", "--dataset", "synth-haze", "--root", str(root)]
    argv += ["--epochs", "1", "--batch-size", "2", "--patch-size", "32", "--lr", "0.002"]
    argv += ["--warmup-epochs", "0", "--num-workers", "0", "--device", "cpu"]
    return [*argv, "--progress", "none", "--out", str(out), *extra]


def test_the_same_seed_writes_byte_identical_checkpoints_and_histories(tiny_haze, tmp_path):
    files = []
    for run in ("a", "b"):
        out, log = tmp_path / run / "m.pt", tmp_path / run / "h.json"
        assert main(_argv(tiny_haze, out, "--history", str(log), "--save-every", "1")) == 0
        files.append((out.read_bytes(), log.read_bytes()))
    assert files[0][0] == files[1][0]
    assert files[0][1] == files[1][1]


def test_validation_keeps_the_best_checkpoint_beside_the_last(tiny_haze, tmp_path, capsys):
    out, log, timing = tmp_path / "m.pt", tmp_path / "h.json", tmp_path / "t.json"
    extra = ["--val-split", "train", "--val-every-steps", "2", "--repeats-per-epoch", "2"]
    extra += ["--history", str(log), "--timing", str(timing)]
    assert main(_argv(tiny_haze, out, *extra)) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    history = json.loads(log.read_text())
    scores = [v["val_psnr_db"] for v in history["validations"]]
    assert [v["step"] for v in history["validations"]] == [2, 4, 6]  # every 2 steps + the end
    assert history["best"]["val_psnr_db"] == max(scores)
    best = tmp_path / "m.best.pt"
    assert summary["out"] == str(out) and summary["best"] == str(best)
    _, info = irnext.load_checkpoint(best)
    assert info["training"]["step"] == history["best"]["step"]
    assert "seconds" not in json.dumps(history) and "environment" not in history
    timing = json.loads(timing.read_text())
    assert timing["environment"]["torch"] == torch.__version__
    assert [e["epoch"] for e in timing["epochs"]] == [1] and timing["epochs"][0]["seconds"] > 0


def test_a_nan_loss_stops_the_run_naming_the_step_and_keeps_the_last_good_checkpoint(
    tiny_haze, tmp_path, capsys, monkeypatch
):
    import irnext.training.loop as loop

    real, calls = loop.multiscale_loss, []

    def poisoned(*args, **kwargs):  # a finite loss, then NaN from step 3 on
        calls.append(1)
        loss = real(*args, **kwargs)
        return loss * float("nan") if len(calls) >= 3 else loss

    monkeypatch.setattr(loop, "multiscale_loss", poisoned)
    out = tmp_path / "m.pt"
    extra = ["--save-every-steps", "2", "--log-every", "50", "--repeats-per-epoch", "2"]
    assert main(_argv(tiny_haze, out, *extra)) == 2
    error = capsys.readouterr().err
    assert "step 3" in error and "nan" in error and str(out) in error, error
    model, info = irnext.load_checkpoint(out)  # refuses non-finite weights itself
    assert info["resume"]["step"] == 2
    assert all(torch.isfinite(v).all() for v in model.state_dict().values())


def test_out_of_memory_names_the_batch_the_patch_and_the_model(tiny_haze, monkeypatch):
    model = irnext.create_model("irnext-test")

    def no_memory(*args, **kwargs):
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    monkeypatch.setattr(model, "forward", no_memory)
    config = TrainConfig(epochs=1, batch_size=2, patch_size=32, num_workers=0)
    dataset = open_dataset("synth-haze", tiny_haze, split="train")
    with pytest.raises(InputError, match="batch_size 2 x patch_size 32") as caught:
        train(model, dataset, config)
    assert "irnext-test" in str(caught.value)


def test_unwritable_outputs_fail_before_the_first_step(tiny_haze, tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("")
    out = tmp_path / "m.pt"
    assert main(_argv(tiny_haze, out, "--history", str(blocker / "h.json"))) == 2
    assert "h.json" in capsys.readouterr().err
    assert not out.exists()  # nothing trained, nothing written


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [("deterministic", "false", "bool"), ("epochs", "10", "int"), ("lr", "1e-4", "a number")],
)
def test_a_string_for_a_typed_value_is_refused_naming_key_value_and_type(key, value, expected):
    with pytest.raises(InputError, match=f"{key}: expected {expected}, got str '{value}'"):
        TrainConfig(**{key: value})
    with pytest.raises(InputError, match="num_workers: expected int or 'auto'"):
        TrainConfig(num_workers="4")
    with pytest.raises(InputError, match="save_every_steps: expected int"):
        EngineOptions(save_every_steps=2.0)


def test_bf16_training_stays_finite_learns_and_keeps_fp32_weights(tiny_haze):
    torch.manual_seed(0)
    model = irnext.create_model("irnext-test")
    config = TrainConfig(epochs=3, batch_size=2, patch_size=32, lr=2e-3, warmup_epochs=0)
    config = dataclasses.replace(config, num_workers=0, precision="bf16", repeats_per_epoch=2)
    history = train(model, open_dataset("synth-haze", tiny_haze, split="train"), config)
    losses = [h["loss"] for h in history]
    assert all(torch.isfinite(torch.tensor(losses))) and losses[-1] < losses[0]
    assert {p.dtype for p in model.parameters()} == {torch.float32}


def test_dvclive_logs_metrics_without_writing_a_dvc_yaml(tiny_haze, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    extra = ["--dvclive", "live", "--log-every", "1", "--val-split", "train"]
    assert main(_argv(tiny_haze, tmp_path / "m.pt", *extra)) == 0
    logged = {p.relative_to(tmp_path / "live").as_posix() for p in (tmp_path / "live").rglob("*")}
    assert "plots/metrics/train/loss.tsv" in logged and "plots/metrics/val/psnr_db.tsv" in logged
    assert not list(tmp_path.rglob("dvc.yaml"))


def test_channels_last_trains_to_the_same_weights_within_float_tolerance(tiny_haze):
    dataset = open_dataset("synth-haze", tiny_haze, split="train")
    config = TrainConfig(epochs=1, batch_size=2, patch_size=32, num_workers=0)
    models = []
    for layout in (False, True):
        torch.manual_seed(0)
        models.append(irnext.create_model("irnext-test"))
        train(models[-1], dataset, config, options=EngineOptions(channels_last=layout))
    for (key, a), b in zip(models[0].state_dict().items(), models[1].state_dict().values()):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6, msg=key)


def test_auto_loader_sizing_follows_the_cores_the_device_and_the_ranks(monkeypatch):
    from irnext.data.transforms import loader_settings

    cuda, cpu = torch.device("cuda"), torch.device("cpu")
    monkeypatch.setattr("os.sched_getaffinity", lambda pid: set(range(16)), raising=False)
    assert loader_settings("auto", cuda) == {
        "num_workers": 8,  # 15 cores free, capped at 8
        "pin_memory": True,
        "persistent_workers": True,
        "prefetch_factor": 4,
    }
    assert loader_settings("auto", cuda, ranks_per_node=4)["num_workers"] == 3  # 4 cores each
    assert loader_settings("auto", cpu)["num_workers"] == 4  # a quarter: the model needs cores
    monkeypatch.setattr("os.sched_getaffinity", lambda pid: {0, 1}, raising=False)
    small = loader_settings("auto", cpu)
    assert small["num_workers"] == 0 and small["prefetch_factor"] is None
    assert loader_settings(3, cpu)["num_workers"] == 3  # an integer is kept as given
    with pytest.raises(InputError, match="num_workers -1"):
        loader_settings(-1, cpu)


def test_an_op_without_a_deterministic_kernel_is_named_with_the_way_out(tiny_haze, monkeypatch):
    model = irnext.create_model("irnext-test")

    def refused(*args, **kwargs):  # what torch raises for bilinear upsampling's CUDA backward
        raise RuntimeError(
            "upsample_bilinear2d_backward_out_cuda does not have a deterministic "
            "implementation, but you set 'torch.use_deterministic_algorithms(True)'"
        )

    monkeypatch.setattr(model, "forward", refused)
    config = TrainConfig(epochs=1, batch_size=2, patch_size=32, num_workers=0)
    dataset = open_dataset("synth-haze", tiny_haze, split="train")
    with pytest.raises(InputError, match="upsample_bilinear2d.*--deterministic false"):
        train(model, dataset, config)


def test_progress_is_a_bar_on_a_terminal_and_plain_lines_otherwise():
    import io

    from irnext.training.progress import PlainProgress, ProgressBar, progress_hooks

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    bar_stream, plain_stream = Terminal(), io.StringIO()
    bar, plain = progress_hooks("auto", bar_stream), progress_hooks("auto", plain_stream)
    assert isinstance(bar, ProgressBar) and isinstance(plain, PlainProgress)
    for hooks in (bar, plain):
        for step in (1, 2):
            hooks.step(step, 4)
        hooks.metrics(2, {"loss": 0.25, "lr": 1e-4, "epoch": 1})
        hooks.close()
    assert "2/4" in bar_stream.getvalue() and "loss=0.2500" in bar_stream.getvalue()
    assert plain_stream.getvalue().startswith("step 2/4 epoch 1 loss 0.25000 lr 1.000e-04")


def test_validation_every_k_steps_without_a_validation_set_is_refused(tiny_haze):
    dataset = open_dataset("synth-haze", tiny_haze, split="train")
    config = TrainConfig(epochs=1, batch_size=2, patch_size=32, num_workers=0)
    with pytest.raises(InputError, match="val_every_steps=5 needs a validation set"):
        train(
            irnext.create_model("irnext-test"),
            dataset,
            config,
            options=EngineOptions(val_every_steps=5),
        )
