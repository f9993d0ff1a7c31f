"""Training data pipeline throughput: batches of 8 random 256x256 patches, 2 loader workers.

Run: `pytest benchmarks/bench_data.py -s` (pytest-benchmark). Two sources: the synthetic
benchmark (256x256 PNG pairs, the whole image is the patch) and GoPro-sized 1280x720 PNG pairs
(each patch decodes two full frames, the usual case for real training sets). Prints images/s;
IRNeXt's train step at batch 8 of 256x256 takes roughly 90 ms on an H100 (docs/protocols.md#latency
gives 44 ms at batch 4), i.e. about 90 images/s are needed to keep that GPU busy.
"""

from __future__ import annotations

import time

import numpy as np
import pytest
from skimage.transform import resize

from irnext.data import open_dataset, training_loader, write_image
from irnext.data.synth import build_benchmark
from irnext.data.synth.photos import load_photo, photos_for
from irnext.env import environment_stamp

BATCH, PATCH, WORKERS, EPOCHS = 8, 256, 2, 3


@pytest.fixture(scope="module")
def synthetic_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("synth")
    build_benchmark(task="haze", out=root, train_count=32, test_count=1, size_px=PATCH)
    return root


@pytest.fixture(scope="module")
def gopro_sized_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("gopro")
    for index in range(16):
        photo, _ = load_photo(photos_for("train")[index % 4])
        frame = resize(photo, (720, 1280), order=1, anti_aliasing=False).astype(np.float32)
        frame = np.roll(frame, 37 * index, axis=1)
        write_image(root / "train" / "input" / f"{index:06d}.png", frame)
        write_image(root / "train" / "target" / f"{index:06d}.png", frame)
    return root


def _throughput(benchmark, name, root, patches_per_image=1):
    dataset = open_dataset(name, root, split="train")
    loader = training_loader(
        dataset,
        batch_size=BATCH,
        patch_size=PATCH,
        num_workers=WORKERS,
        patches_per_image=patches_per_image,
    )
    next(iter(loader))  # start the persistent workers outside the timing

    def run():
        images = 0
        for _ in range(EPOCHS):
            for batch in loader:
                images += batch["input"].shape[0]
        return images

    start = time.perf_counter()
    images = benchmark.pedantic(run, rounds=3, iterations=1)
    rate = 3 * images / (time.perf_counter() - start)
    benchmark.extra_info["images_per_s"] = round(rate, 1)
    benchmark.extra_info["patches_per_image"] = patches_per_image
    benchmark.extra_info["environment"] = environment_stamp()
    print(
        f"\n{name}: {rate:.1f} images/s (batch {BATCH}, {PATCH}px, {WORKERS} workers, "
        f"{patches_per_image} patch(es) per decoded pair)"
    )
    return rate


def test_pipeline_synthetic_256(benchmark, synthetic_root):
    assert _throughput(benchmark, "synth-haze", synthetic_root) > 0


def test_pipeline_gopro_sized_1280x720(benchmark, gopro_sized_root):
    assert _throughput(benchmark, "gopro", gopro_sized_root) > 0


def test_pipeline_gopro_sized_4_patches_per_frame(benchmark, gopro_sized_root):
    assert _throughput(benchmark, "gopro", gopro_sized_root, patches_per_image=4) > 0
