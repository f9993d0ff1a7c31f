"""Latency and peak memory against resolution, as data and as a plot.

`resolution_sweep` times each model at each square size (smallest first) and stops a model at its
first out-of-memory, recording it, so the curves end where the card's memory does. `plot_scaling`
renders the records (matplotlib; a report reads the JSON, the plot is a render of it).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from irnext.cost.latency import measure_latency
from irnext.errors import InputError
from irnext.io import atomic_write_bytes


def padded_side(side: int, multiple: int) -> int:
    """The smallest multiple of `multiple` that holds `side` (e.g. 720 -> 736 for 32)."""
    return -(-side // multiple) * multiple


def check_sides(name: str, model: nn.Module, sizes: Sequence[int]) -> None:
    """An `InputError` naming the sides `model` cannot run at, even padded to its multiple."""
    multiple, low = getattr(model, "size_multiple", 1), getattr(model, "min_size", 1)
    small = sorted({s for s in sizes if padded_side(s, multiple) < low})
    if small:
        raise InputError(
            f"image sides {small}: model '{name}' needs sides of at least {low} (inputs are "
            f"padded to a multiple of {multiple}); expected every side >= {low}"
        )


def resolution_sweep(
    builders: dict[str, Callable[[], nn.Module]],
    sizes: Sequence[int],
    *,
    device: torch.device | str = "cpu",
    dtype: str = "fp32",
    warmup: int = 10,
    runs: int = 50,
    batch: int = 1,
) -> list[dict[str, Any]]:
    """One latency record per (model, size); `{"oom": True}` records end a model's sweep."""
    models = {name: build() for name, build in builders.items()}
    for name, model in models.items():  # every size is checked before the first is timed
        check_sides(name, model, sizes)
    records = []
    for name in list(models):
        model = models.pop(name)
        multiple = getattr(model, "size_multiple", 1)
        for size in sorted(sizes):
            side = padded_side(size, multiple)
            try:
                record = measure_latency(
                    model,
                    (batch, 3, side, side),
                    device=device,
                    dtype=dtype,
                    warmup=warmup,
                    runs=runs,
                )
            except torch.cuda.OutOfMemoryError as error:
                records.append(
                    {"model": name, "size": side, "oom": True, "error": str(error).splitlines()[0]}
                )
                break
            finally:
                if torch.cuda.is_available():
                    torch.cuda.empty_cache()
            records.append({"model": name, "size": side, "oom": False, **record})
        del model
    return records


def plot_scaling(records: Sequence[dict[str, Any]], path: str | Path) -> Path:
    """Latency (ms) and peak memory (MiB) against the image side, one line per model."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax_time, ax_mem) = plt.subplots(1, 2, figsize=(10, 4))
    for name in dict.fromkeys(r["model"] for r in records):
        ok = [r for r in records if r["model"] == name and not r["oom"]]
        sides = [r["size"] for r in ok]
        ax_time.plot(sides, [r["latency_ms_median"] for r in ok], marker="o", label=name)
        memory = [r.get("peak_memory_mib") for r in ok]
        if any(m is not None for m in memory):
            ax_mem.plot(sides, memory, marker="o", label=name)
        for r in records:
            if r["model"] == name and r["oom"]:
                ax_time.axvline(r["size"], linestyle=":", alpha=0.4)
    for ax, label in ((ax_time, "latency, median (ms)"), (ax_mem, "peak memory (MiB)")):
        ax.set(xscale="log", yscale="log", xlabel="image side (pixels, square)", ylabel=label)
        ax.grid(True, which="both", alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend()
        else:  # CPU runs: no per-call peak memory (irnext.cost.latency)
            ax.text(0.5, 0.5, "not measured on this device", ha="center", transform=ax.transAxes)
    first = records[0] if records else {}
    env = first.get("environment", {})
    fig.suptitle(
        f"{env.get('device_name', '?')}, {first.get('precision', '?')}, batch "
        f"{first.get('batch', '?')}; dotted: out of memory"
    )
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=120)
    plt.close(fig)
    return atomic_write_bytes(Path(path), buffer.getvalue())
