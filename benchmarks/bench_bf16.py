"""How far bf16 inference moves the scores of trained networks, with and without fp32 islands.

    python benchmarks/bench_bf16.py --models models --data data/synth \
        --out benchmarks/results/cpu-bf16-xeon-2t

For every checkpoint MODELS/TASK/NAME.pt (what `dvc repro` trains) and the synthetic test split
DATA/TASK, each test pair is restored in fp32, under plain bf16 autocast, and under bf16 autocast
with `irnext.evaluation.precision.fp32_islands` in fp32 (what `evaluate(dtype="bf16")` runs),
and scored under the dataset's protocol. Writes results.json (per cell: mean and largest
per-image gap of PSNR and SSIM for both bf16 modes, the islands) and table.md.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from irnext.checkpoint import load_checkpoint
from irnext.data import open_dataset
from irnext.env import environment_stamp
from irnext.evaluation.precision import float32_islands, fp32_islands
from irnext.inference import restore
from irnext.io import atomic_write_text
from irnext.metrics import score_batch

MODES = ("fp32", "bf16", "bf16+islands")


def restorations(model, images: torch.Tensor, mode: str) -> torch.Tensor:
    islands = fp32_islands(model) if mode == "bf16+islands" else []
    with (
        torch.autocast("cpu", dtype=torch.bfloat16, enabled=mode != "fp32"),
        float32_islands(model, islands),
    ):
        return restore(model, images).float()


def measure_cell(checkpoint: Path, root: Path, *, chunk: int) -> dict:
    model, info = load_checkpoint(checkpoint)
    dataset = open_dataset(f"synth-{root.name}", root)
    scores = {mode: [] for mode in MODES}
    protocol = dataset.info.protocol
    for start in range(0, len(dataset), chunk):
        pairs = [dataset[i] for i in range(start, min(start + chunk, len(dataset)))]
        images = torch.stack([pair["input"] for pair in pairs])
        targets = torch.stack([pair["target"] for pair in pairs])
        for mode in MODES:
            restored = restorations(model, images, mode)
            scores[mode] += score_batch(restored, targets, protocol=protocol)
    record = {"model": info["model_name"], "task": root.name, "images": len(dataset)}
    for mode in MODES[1:]:
        for metric in ("psnr_db", "ssim"):
            gaps = [
                b[metric] - a[metric] for a, b in zip(scores["fp32"], scores[mode], strict=True)
            ]
            record[f"{mode} mean {metric} gap"] = sum(gaps) / len(gaps)
            record[f"{mode} max {metric} gap"] = max(abs(g) for g in gaps)
    record["islands"] = fp32_islands(model)
    return record


def table(records: list[dict], environment: dict) -> str:
    head = (
        f"# bf16 against fp32 scores of the default profile's trained models, "
        f"{environment['device_name']} ({torch.get_num_threads()} threads)\n\n"
        "Per cell: the change of the mean PSNR (dB) over the test split and the largest change "
        "of one image's PSNR, under plain bf16 autocast and under bf16 with the fp32 islands "
        "(what `irnext evaluate --dtype bf16` runs).\n\n"
        "| task | model | bf16 mean | bf16 largest | islands mean | islands largest |\n"
        "|---|---|---|---|---|---|\n"
    )
    rows = [
        f"| {r['task']} | {r['model']} | {r['bf16 mean psnr_db gap']:+.4f} | "
        f"{r['bf16 max psnr_db gap']:.4f} | {r['bf16+islands mean psnr_db gap']:+.4f} | "
        f"{r['bf16+islands max psnr_db gap']:.4f} |"
        for r in records
    ]
    largest = {
        mode: (
            max(abs(r[f"{mode} mean psnr_db gap"]) for r in records),
            max(r[f"{mode} max psnr_db gap"] for r in records),
        )
        for mode in MODES[1:]
    }
    reading = (
        "\nOver all cells, the largest change of a mean / of one image: plain bf16 "
        f"{largest['bf16'][0]:.4f} / {largest['bf16'][1]:.4f} dB, with the islands "
        f"{largest['bf16+islands'][0]:.4f} / {largest['bf16+islands'][1]:.4f} dB. No cell keeps "
        "every image within 1e-3 dB: `evaluate`'s self-check (default tolerance 1e-3 dB) stops "
        "bf16 runs of these models unless a larger tolerance is given.\n"
    )
    return head + "\n".join(rows) + "\n" + reading


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=Path, default=Path("models"), help="MODELS/TASK/*.pt")
    parser.add_argument("--data", type=Path, default=Path("data/synth"), help="DATA/TASK")
    parser.add_argument("--out", type=Path, required=True, help="results folder")
    parser.add_argument("--chunk", type=int, default=8, help="images restored together")
    args = parser.parse_args()
    records = []
    for checkpoint in sorted(args.models.glob("*/*.pt")):
        records.append(
            measure_cell(checkpoint, args.data / checkpoint.parent.name, chunk=args.chunk)
        )
        print(json.dumps({k: v for k, v in records[-1].items() if k != "islands"}), flush=True)
    environment = environment_stamp(torch.device("cpu"))
    args.out.mkdir(parents=True, exist_ok=True)
    payload = {"records": records, "environment": environment}
    atomic_write_text(args.out / "results.json", json.dumps(payload, indent=1) + "\n")
    atomic_write_text(args.out / "table.md", table(records, environment))


if __name__ == "__main__":
    main()
