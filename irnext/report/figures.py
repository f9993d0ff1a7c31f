"""Figures rendered with matplotlib from result records (`dvc plots` needs a CDN; these don't).

Each figure is written atomically (rendered to memory, then `irnext.io.atomic_write_bytes`).
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from irnext.io import atomic_write_bytes  # noqa: E402

# Area (points^2) of the largest model's bubble; areas are proportional to parameters, as the
# paper's Figure 1 scales its circles.
MAX_AREA = 1500.0
# No PSNR axis spans less than this: autoscaling a 0.05 dB spread to fill a panel would present
# noise as a difference.
MIN_SPAN_DB = 1.0


def save(fig, path: Path, dpi: int = 110) -> Path:
    fig.tight_layout()
    buffer = io.BytesIO()
    # No metadata: the same records give byte-identical files.
    fig.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
    plt.close(fig)
    return atomic_write_bytes(path, buffer.getvalue())


def _bubbles(ax, points: Sequence[dict[str, Any]], title: str) -> None:
    """PSNR against GMACs, bubble area proportional to params (IRNeXt paper, Figure 1)."""
    largest = max([p["params"] for p in points if p.get("gmacs") is not None] or [1]) or 1
    for p in points:
        if p.get("gmacs") is None:  # the identity: no compute, a reference line
            ax.axhline(p["psnr"], color="#888888", ls="--", lw=1)
            ax.annotate("identity", (0.01, p["psnr"]), xycoords=("axes fraction", "data"))
            continue
        area = MAX_AREA * p["params"] / largest
        colour = "#c44e52" if p["model"].startswith("irnext") else "#4c72b0"
        ax.scatter(p["gmacs"], p["psnr"], s=area, alpha=0.55, color=colour, edgecolor="k")
        if p.get("std") is not None:
            ax.errorbar(p["gmacs"], p["psnr"], yerr=p["std"], color="k", lw=0.8, capsize=2)
        ax.annotate(
            p["model"],
            (p["gmacs"], p["psnr"]),
            fontsize=7,
            xytext=(4, 4),
            textcoords="offset points",
        )
    ax.set(xlabel="GMACs (torch counter)", ylabel="PSNR (dB)", title=title)
    ax.margins(0.2)
    at_least_span(ax)
    ax.text(
        0.99,
        0.01,
        f"largest bubble: {largest / 1e6:.2f} M params",
        fontsize=7,
        ha="right",
        va="bottom",
        transform=ax.transAxes,
    )
    ax.grid(alpha=0.3)


def psnr_vs_macs(points: Sequence[dict[str, Any]], title: str, path: Path) -> Path:
    fig, ax = plt.subplots(figsize=(5.5, 4))
    _bubbles(ax, points, title)
    return save(fig, path)


def psnr_vs_macs_overview(tasks: Mapping[str, Sequence[dict[str, Any]]], path: Path) -> Path:
    columns = min(3, len(tasks))
    rows = -(-len(tasks) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(4.6 * columns, 3.6 * rows), squeeze=False)
    for ax, (task, points) in zip(axes.flat, sorted(tasks.items())):
        _bubbles(ax, points, task)
    for ax in list(axes.flat)[len(tasks) :]:
        ax.axis("off")
    fig.suptitle("PSNR against compute; bubble area = parameters")
    return save(fig, path)


def scaling(records: Sequence[dict[str, Any]], path: Path) -> Path:
    """Latency and peak memory against the input side, one line per model and device;
    out-of-memory sizes are marked at the top, flagged timings drawn hollow."""
    fig, (ax_time, ax_memory) = plt.subplots(1, 2, figsize=(10, 3.8))
    # An out-of-memory record may carry no device: it belongs to its model's sweep.
    known = {r["model"]: r["device"] for r in records if r.get("device")}
    device = [r.get("device") or known.get(r["model"], "?") for r in records]
    for key in sorted(set(zip((r["model"] for r in records), device))):
        rows = [r for r, d in zip(records, device) if (r["model"], d) == key]
        _scaling_line(ax_time, ax_memory, sorted(rows, key=lambda r: r["size"]), *key)
    ax_time.set(
        xlabel="input side (px)",
        ylabel="latency (ms, median)",
        yscale="log",
        title="Latency (hollow: flagged, dotted: out of memory)",
    )
    ax_memory.set(xlabel="input side (px)", ylabel="peak memory (MiB)", title="Peak memory")
    if not ax_memory.lines:
        ax_memory.text(0.5, 0.5, "not measured (CPU)", ha="center", transform=ax_memory.transAxes)
    for ax in (ax_time, ax_memory):
        ax.set_xscale("log", base=2)
        ax.grid(alpha=0.3)
        if ax.lines:
            ax.legend(fontsize=7)
    return save(fig, path)


def _scaling_line(ax_time, ax_memory, rows, model: str, device: str) -> None:
    ok = [r for r in rows if not r.get("oom") and r.get("latency_ms_median") is not None]
    label = f"{model} ({device})"
    sizes, medians = [r["size"] for r in ok], [r["latency_ms_median"] for r in ok]
    colour = ax_time.plot(sizes, medians, marker="o", label=label)[0].get_color()
    flagged = [r for r in ok if r.get("flagged")]
    ax_time.scatter(
        [r["size"] for r in flagged],
        [r["latency_ms_median"] for r in flagged],
        s=80,
        facecolor="white",
        edgecolor=colour,
        zorder=3,
    )
    for r in rows:
        if r.get("oom"):
            ax_time.axvline(r["size"], color=colour, ls=":", lw=1)
    memory = [(r["size"], r["peak_memory_mib"]) for r in ok if r.get("peak_memory_mib")]
    if memory:
        ax_memory.plot(*zip(*memory), marker="o", label=label, color=colour)


def training_curves(histories: Sequence[dict[str, Any]], path: Path) -> Path:
    """Validation PSNR against the step, one panel per task, one line per model and seed.

    Training losses are not drawn: IRNeXt's is the sum over its three output scales, the
    baselines' a single-scale loss, so the two are not one quantity on one axis. A task whose
    histories hold no validation says so in its panel."""
    tasks = sorted({h["task"] for h in histories})
    columns = min(3, len(tasks))
    rows = -(-len(tasks) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(4.8 * columns, 3.2 * rows), squeeze=False)
    for ax, task in zip(axes.flat, tasks):
        _task_curves(ax, sorted((h for h in histories if h["task"] == task), key=_order))
        ax.set(xlabel="step", ylabel="validation PSNR (dB)", title=task)
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(tasks) :]:
        fig.delaxes(ax)
    return save(fig, path)


def _task_curves(ax, histories: Sequence[dict[str, Any]]) -> None:
    colours: dict[str, Any] = {}
    for h in histories:
        checks = [v for v in h["history"].get("validations") or [] if "val_psnr_db" in v]
        if not checks:
            continue
        colour = colours.get(h["model"])
        line = ax.plot(
            [v["step"] for v in checks],
            [v["val_psnr_db"] for v in checks],
            lw=1,
            color=colour,
            label=None if colour else h["model"],
        )
        colours.setdefault(h["model"], line[0].get_color())
    if colours:
        ax.legend(fontsize=7)
    else:
        ax.text(0.5, 0.5, "no validation during training\n(losses of different models are\n"
                "not comparable)", ha="center", va="center", transform=ax.transAxes)  # fmt: skip


def _order(history: dict[str, Any]) -> tuple[str, int]:
    return history["model"], history["seed"] if history["seed"] is not None else -1


def curve(history: dict[str, Any]) -> tuple[list[int], list[float]]:
    """(step at the end of each epoch, mean loss of that epoch)."""
    steps, losses, total = [], [], 0
    for epoch in history.get("epochs") or []:
        total += int(epoch.get("steps") or 1)
        steps.append(total)
        losses.append(epoch["loss"])
    return steps, losses


def ablation_points(rows: Sequence[dict[str, Any]], title: str, xlabel: str, path: Path) -> Path:
    """PSNR of each variant (mean over seeds, bar: std), annotated with its parameters.

    Points, not bars: the axis does not start at zero, and a bar's length from a cut axis
    would draw a small difference as a large one. The axis spans at least `MIN_SPAN_DB`."""
    fig, ax = plt.subplots(figsize=(6.5, 0.5 * len(rows) + 1.4))
    names = [r["variant"] for r in rows][::-1]
    psnr = [r["psnr"] for r in rows][::-1]
    errors = [r["std"] or 0.0 for r in rows][::-1]
    ax.errorbar(psnr, names, xerr=errors, fmt="o", color="#4c72b0", capsize=3)
    for name, r, error in zip(names, rows[::-1], errors):
        ax.annotate(
            f"{r['psnr']:.2f} dB, {r['params'] / 1e6:.3f} M",
            (r["psnr"] + error, name),
            xytext=(6, 0),
            textcoords="offset points",
            va="center",
            fontsize=8,
        )
    ax.margins(x=0.35)
    at_least_span(ax, "x")
    ax.set(xlabel=xlabel, title=title)
    ax.grid(axis="x", alpha=0.3)
    return save(fig, path)


def at_least_span(ax, axis: str = "y", span: float = MIN_SPAN_DB) -> None:
    """Widen `ax`'s `axis` (PSNR in dB) about its centre to at least `span`."""
    low, high = ax.get_xlim() if axis == "x" else ax.get_ylim()
    if high - low < span:
        centre = (low + high) / 2
        limits = (centre - span / 2, centre + span / 2)
        ax.set_xlim(*limits) if axis == "x" else ax.set_ylim(*limits)


def complexity_bars(records: Sequence[dict[str, Any]], path: Path) -> Path:
    """MACs of every model (at the records' input shape) from each counter, with the paper's."""
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
    return save(fig, path)
