"""Figures rendered with matplotlib from result records (`dvc plots` needs a CDN; these don't)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def training_curves(histories: Mapping[str, dict[str, Any]], path: Path) -> Path:
    """Training loss per epoch, one line per task."""
    fig, ax = plt.subplots(figsize=(6, 3.6))
    for task, history in sorted(histories.items()):
        epochs = [e["epoch"] for e in history["epochs"]]
        ax.plot(epochs, [e["loss"] for e in history["epochs"]], marker=".", label=task)
    ax.set(
        xlabel="epoch", ylabel="loss (L1 + FFT-L1, all scales)", yscale="log", title="Training loss"
    )
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return _save(fig, path)


def ablation_bars(result: dict[str, Any], path: Path) -> Path:
    """PSNR of each variant, annotated with its parameter count."""
    variants = result["variants"]
    names = [v["variant"] for v in variants]
    psnr = [v["psnr_db"] for v in variants]
    fig, ax = plt.subplots(figsize=(6, 0.5 * len(names) + 1.4))
    bars = ax.barh(names[::-1], psnr[::-1], color="#4c72b0")
    for bar, v in zip(bars, variants[::-1]):
        ax.text(
            bar.get_width(),
            bar.get_y() + bar.get_height() / 2,
            f" {v['psnr_db']:.2f} dB, {v['params'] / 1e6:.3f} M",
            va="center",
            fontsize=8,
        )
    low = min(psnr)
    ax.set_xlim(low - 1.0, max(psnr) + 0.25 * (max(psnr) - low + 1.0) + 1.0)
    ax.set(xlabel=f"PSNR (dB), {result['protocol']} on {result['dataset']}", title=result["title"])
    return _save(fig, path)


def complexity_bars(records: Sequence[dict[str, Any]], path: Path) -> Path:
    """MACs of every model (at the records' input shape) from each counter, with the paper's
    figure."""
    names = [r["model"] for r in records]
    fig, ax = plt.subplots(figsize=(7, 0.32 * len(names) + 1.4))
    counters = [c for c in ("fvcore", "ptflops", "torch") if f"macs_{c}" in records[0]]
    height = 0.8 / (len(counters) + 1)
    for i, counter in enumerate(counters):
        values = [r[f"macs_{counter}"] / 1e9 for r in records]
        ax.barh([j + i * height for j in range(len(names))], values, height, label=counter)
    paper = [((r.get("reported") or {}).get("gmacs") or 0) for r in records]
    ax.barh(
        [j + len(counters) * height for j in range(len(names))],
        paper,
        height,
        label="paper",
        color="#999999",
    )
    ax.set_yticks([j + 0.4 - height / 2 for j in range(len(names))], names, fontsize=8)
    ax.set_xscale("log")
    shape = "x".join(str(s) for s in records[0].get("input_shape", (1, 3, 256, 256)))
    ax.set(xlabel=f"GMACs at {shape}", title="Compute per model, by counter")
    ax.invert_yaxis()
    ax.legend(fontsize=8)
    return _save(fig, path)


def _save(fig, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
