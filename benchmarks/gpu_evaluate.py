"""Evaluation throughput on a 1280x720 image set, batched metrics on the device.

    python benchmarks/gpu_evaluate.py --out DIR [--count 32] [--device cuda]

Writes `count` blur/sharp pairs at 1280x720 in GoPro's layout (DIR/gopro-720p/test/SCENE/
{blur,sharp}), made from the offline benchmark's photographs with its camera-shake blur in linear
light, then scores them with `irnext.evaluation.evaluate` under GoPro's protocol (`matlab_rgb3d`):
the identity at batch 1 and 8 (reading, transfer and metrics only), and IRNeXt (num_res 14, the
GoPro-sized model, random weights: speed, not quality) at batch 1 and 4 in fp32 eager, and at
batch 4 with channels_last, bf16 and both, each twice (the first pass pays for warming up). Each
record holds images/s end to end and for the metrics alone, and bf16's self-check. The
identity's scores on the device must equal its CPU scores of the same pairs (1e-4 dB, 1e-5 SSIM),
or the script exits 1.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from irnext.data import open_dataset
from irnext.data.images import write_image
from irnext.data.synth.motion_blur import degrade_motion_blur
from irnext.data.synth.photos import PHOTOS, load_photo
from irnext.evaluation import EvalOptions, IdentityModel, evaluate
from irnext.models.registry import create_model

HEIGHT, WIDTH = 720, 1280


def cover(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """Resize (bicubic) so the image covers height x width, then centre-crop to it."""
    scale = max(height / image.shape[0], width / image.shape[1])
    size = (round(image.shape[1] * scale), round(image.shape[0] * scale))
    pil = Image.fromarray((np.clip(image, 0, 1) * 255 + 0.5).astype(np.uint8))
    resized = np.asarray(pil.resize(size, Image.Resampling.BICUBIC), dtype=np.float32) / 255
    top, left = (resized.shape[0] - height) // 2, (resized.shape[1] - width) // 2
    return resized[top : top + height, left : left + width]


def write_720p_set(root: Path, *, count: int, seed: int = 0) -> Path:
    """`count` GoPro-layout pairs at 1280x720 under root/test/GOPR0000_00_00; returns root."""
    rng = np.random.default_rng(seed)
    photos = [cover(load_photo(photo)[0], HEIGHT, WIDTH) for photo in PHOTOS]
    scene = root / "test" / "GOPR0000_00_00"
    for index in range(count):
        clean = photos[index % len(photos)]
        if index // len(photos) % 2:  # vary the content of repeated photographs
            clean = clean[:, ::-1]
        blurred, _ = degrade_motion_blur(clean, None, rng)
        write_image(scene / "blur" / f"{index:06d}.png", blurred)
        write_image(scene / "sharp" / f"{index:06d}.png", clean)
    return root


# (model, batch, evaluate options): the identity times reading, transfer and metrics; IRNeXt adds
# inference, in fp32 eager and with the faster modes. bf16's tolerance is open: these are random
# weights, and the gap its self-check measured is what the record keeps.
BF16 = {"dtype": "bf16", "bf16_tolerance_db": float("inf")}
CASES = (
    ("identity", 1, {}),
    ("identity", 8, {}),
    ("irnext-motion-deblur", 1, {}),
    ("irnext-motion-deblur", 4, {}),
    ("irnext-motion-deblur", 4, {"channels_last": True}),
    ("irnext-motion-deblur", 4, BF16),
    ("irnext-motion-deblur", 4, {**BF16, "channels_last": True}),
)
QUICK_CASES = (
    ("identity", 1, {}),
    ("identity", 4, {}),
    ("irnext-test", 2, {}),
    ("irnext-test", 2, BF16),
)


def run(
    root: Path, device: str, *, count: int, cases=CASES, workers: int = 4
) -> tuple[list[dict[str, Any]], list[str]]:
    """Throughput records, and the names of pairs whose device scores left the CPU ones."""
    # A throughput set, not GoPro's test split: its size is meant to differ from the published one.
    warnings.filterwarnings("ignore", message=".*its published split")
    dataset = open_dataset("gopro", root, split="test")
    if len(dataset) != count:
        raise RuntimeError(f"{root}: expected {count} pairs, the gopro loader found {len(dataset)}")
    records, per_image = [], []
    for name, batch, options in cases:
        torch.manual_seed(0)
        model = IdentityModel() if name == "identity" else create_model(name)
        # Two passes: the first pays for CUDA's context, cuDNN's kernel search and the page cache;
        # the second is the throughput a long evaluation sees. Both are recorded.
        runs = [
            evaluate(
                model,
                dataset,
                options=EvalOptions(
                    device=device, batch_size=batch, num_workers=workers, **options
                ),
                model_name=name,
            )
            for _ in range(2)
        ]
        rows, summary = runs[-1]
        if name == "identity":
            per_image.append(rows)
        keys = ("images_per_second", "metric_images_per_second", "seconds_total")
        records.append(
            {
                "model": name,
                "batch": batch,
                "options": {k: v for k, v in options.items() if k != "bf16_tolerance_db"},
                "bf16_check": summary["bf16_check"],
                "images": len(rows),
                "size": [HEIGHT, WIDTH],
                "protocol": summary["protocol"],
                "psnr_db_mean": summary["means"]["psnr_db"],
                **{key: summary[key] for key in keys},
                "first_pass_images_per_second": runs[0][1]["images_per_second"],
                "environment": summary["environment"],
            }
        )
    cpu_rows, _ = evaluate(
        IdentityModel(), dataset, options=EvalOptions(device="cpu", batch_size=8)
    )
    mismatched = [
        cpu["name"]
        for rows in per_image
        for cpu, dev in zip(cpu_rows, rows, strict=True)
        if abs(cpu["psnr_db"] - dev["psnr_db"]) > 1e-4 or abs(cpu["ssim"] - dev["ssim"]) > 1e-5
    ]
    return records, mismatched


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--count", type=int, default=32)
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--workers", type=int, default=4, help="DataLoader processes")
    parser.add_argument("--quick", action="store_true", help="tiny model, small batches")
    args = parser.parse_args(argv)
    root = write_720p_set(args.out / "gopro-720p", count=args.count)
    cases = QUICK_CASES if args.quick else CASES
    records, mismatched = run(
        root, args.device, count=args.count, cases=cases, workers=args.workers
    )
    result = {"records": records, "device_vs_cpu_mismatches": mismatched}
    (args.out / "evaluation.json").write_text(json.dumps(result, indent=1, default=str))
    for r in records:
        print(
            f"{r['model']:<22} batch {r['batch']}: {r['images_per_second']:7.2f} images/s end to "
            f"end, metrics {r['metric_images_per_second']:8.2f} images/s ({r['protocol']})"
        )
    print(f"device scores differ from CPU on {mismatched}" if mismatched else "device == CPU")
    return 1 if mismatched else 0


if __name__ == "__main__":
    sys.exit(main())
