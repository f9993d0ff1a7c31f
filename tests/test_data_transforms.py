"""Training patches: aligned crops, and batches fixed by the seed alone."""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image

from irnext.data import open_dataset, random_patch, training_loader


def _dataset(root, count=6, size=(40, 48)):
    rng = np.random.default_rng(0)
    for index in range(count):
        clean = rng.integers(0, 256, (*size, 3), dtype=np.uint8)
        for side, pixels in (("input", 255 - clean), ("target", clean)):
            (root / "train" / side).mkdir(parents=True, exist_ok=True)
            Image.fromarray(pixels).save(root / "train" / side / f"{index}.png")
    return open_dataset("synth-haze", root, split="train")


def test_patch_keeps_input_and_target_aligned():
    rng = np.random.default_rng(1)
    clean = rng.random((30, 40, 3)).astype(np.float32)
    for seed in range(20):
        degraded, target = random_patch(
            1 - clean,
            clean,
            patch_size=16,
            rotate=True,
            generator=torch.Generator().manual_seed(seed),
        )
        assert degraded.shape == target.shape == (16, 16, 3)
        np.testing.assert_allclose(degraded, 1 - target, atol=1e-6)


def _batches(dataset, *, seed, workers):
    loader = training_loader(
        dataset, batch_size=2, patch_size=16, seed=seed, num_workers=workers, rotate=True
    )
    return [(batch["input"].clone(), batch["name"]) for batch in loader]


def test_same_seed_same_batches_with_any_worker_count(tmp_path):
    dataset = _dataset(tmp_path)
    single = _batches(dataset, seed=7, workers=0)
    double = _batches(dataset, seed=7, workers=2)
    assert len(single) == 3
    for (a, names_a), (b, names_b) in zip(single, double, strict=True):
        assert names_a == names_b
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    other = _batches(dataset, seed=8, workers=0)
    assert any(not torch.equal(a, b) for (a, _), (b, _) in zip(single, other, strict=True))


def test_epochs_differ_but_replay_identically(tmp_path):
    dataset = _dataset(tmp_path)
    first = training_loader(dataset, batch_size=3, patch_size=16, seed=3, num_workers=0)
    second = training_loader(dataset, batch_size=3, patch_size=16, seed=3, num_workers=0)
    epochs_a = [[b["input"] for b in first] for _ in range(2)]
    epochs_b = [[b["input"] for b in second] for _ in range(2)]
    for a, b in zip(epochs_a, epochs_b, strict=True):
        for x, y in zip(a, b, strict=True):
            assert torch.equal(x, y)
    assert not all(torch.equal(x, y) for x, y in zip(epochs_a[0], epochs_a[1], strict=True))


def test_patches_per_image_repeats_a_frame_with_different_crops(tmp_path):
    dataset = _dataset(tmp_path, count=4)
    loader = training_loader(
        dataset, batch_size=4, patch_size=16, seed=1, num_workers=0, patches_per_image=4
    )
    batches = list(loader)
    assert len(batches) == 4
    for batch in batches:
        assert len(set(batch["name"])) == 1
        assert len({bytes(patch.numpy()) for patch in batch["input"]}) > 1
    assert sorted(b["name"][0] for b in batches) == sorted(p.name for p in dataset.pairs)
