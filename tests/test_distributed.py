"""Data-parallel training: torchrun with 2 gloo processes at batch B trains what 1 process
trains at batch 2B (same global batches in the same order, BatchNorm over the global batch,
gradients averaged), and each rank reads a disjoint shard of every epoch's seeded order."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest
import torch

from irnext.data import SeededSampler


def test_the_ranks_shards_make_up_the_single_process_batches():
    single = list(SeededSampler(length=11, seed=5, repeats=2))
    batch, world = 3, 2
    shards = [
        list(SeededSampler(length=11, seed=5, repeats=2, rank=r, world_size=world, block=batch))
        for r in range(world)
    ]
    assert all(len(shard) == len(single) // (batch * world) * batch for shard in shards)
    for k in range(len(shards[0]) // batch):  # global batch k = rank 0's k-th, then rank 1's
        joined = shards[0][k * batch : (k + 1) * batch] + shards[1][k * batch : (k + 1) * batch]
        assert joined == single[k * batch * world : (k + 1) * batch * world]
    positions = [tuple(item) for shard in shards for item in shard]
    assert len(set(positions)) == len(positions)  # disjoint (each item carries its own seed)


def test_a_sampler_started_mid_epoch_yields_the_rest_of_that_epoch():
    full = list(SeededSampler(length=9, seed=1, world_size=2, rank=1, block=2))
    late = SeededSampler(length=9, seed=1, world_size=2, rank=1, block=2)
    late.start = 2
    assert list(late) == full[2:]
    assert len(list(late)) == len(full)  # the skip applies to one epoch only


def _train(tmp_path, root, name, *, launcher, batch):
    out = tmp_path / f"{name}.pt"
    argv = [*launcher, "train", "--model", "irnext-test", "--dataset", "synth-haze"]
    argv += ["--root", str(root), "--epochs", "2", "--batch-size", str(batch)]
    argv += ["--patch-size", "32", "--lr", "0.002", "--warmup-epochs", "0", "--grad-clip", "0.1"]
    argv += ["--repeats-per-epoch", "2", "--num-workers", "0", "--device", "cpu"]
    argv += ["--progress", "none", "--out", str(out), "--history", str(tmp_path / f"{name}.json")]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.count("weights_sha256") == 1  # one summary: rank 0's
    return torch.load(out, weights_only=True), json.loads((tmp_path / f"{name}.json").read_text())


@pytest.mark.slow
def test_two_gloo_processes_train_what_one_process_trains_at_twice_the_batch(tiny_haze, tmp_path):
    torchrun = shutil.which("torchrun")
    if torchrun is None:
        torchrun_cmd = [sys.executable, "-m", "torch.distributed.run"]
    else:
        torchrun_cmd = [torchrun]
    ddp_launch = [*torchrun_cmd, "--nproc_per_node", "2", "-m", "irnext"]
    ddp, ddp_log = _train(tmp_path, tiny_haze, "ddp", launcher=ddp_launch, batch=2)
    one, one_log = _train(
        tmp_path, tiny_haze, "one", launcher=[sys.executable, "-m", "irnext"], batch=4
    )
    assert (
        [e["steps"] for e in ddp_log["epochs"]] == [e["steps"] for e in one_log["epochs"]] == [2, 2]
    )
    for a, b in zip(ddp_log["epochs"], one_log["epochs"], strict=True):
        assert a["loss"] == pytest.approx(b["loss"], rel=1e-6)  # the global mean loss
    names = [n for n in one["state_dict"] if "running" in n]
    assert names  # the LAM's BatchNorm: running statistics of the global batch of 4
    for name in names:
        torch.testing.assert_close(
            ddp["state_dict"][name], one["state_dict"][name], atol=1e-5, rtol=1e-4
        )
    _same_gradient_history_and_weights(ddp, one)


def _same_gradient_history_and_weights(ddp, one):
    import irnext

    names = [n for n, _ in irnext.create_model("irnext-test").named_parameters()]
    moments = [
        (ddp["resume"]["optimizer"]["state"][i], one["resume"]["optimizer"]["state"][i])
        for i in range(len(names))
    ]
    noise = []
    for name, (mine, theirs) in zip(names, moments, strict=True):
        scale = theirs["exp_avg"].abs().max().item()
        if not torch.allclose(mine["exp_avg"], theirs["exp_avg"], rtol=1e-3, atol=1e-3 * scale):
            # Only rounding noise may differ: a parameter whose exact gradient is 0 (a bias
            # that a normalisation after it cancels); Adam turns noise into steps of +-lr.
            assert scale < 1e-7, f"{name}: gradient history differs at scale {scale}"
            noise.append(name)
            continue
        mine, theirs = ddp["state_dict"][name], one["state_dict"][name]
        torch.testing.assert_close(mine, theirs, rtol=1e-4, atol=1e-5, msg=name)
    assert len(noise) < len(names) // 10, noise  # a few near-zero gradients, no more
