"""The convergence figure: validation PSNR against training steps and against training MACs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from irnext.report.figures import at_least_span, plt, save


def validation_curves(curves: Mapping[str, Sequence[dict[str, Any]]], path: Path) -> Path:
    """One row per task: seed-mean validation PSNR of each model against the step (left) and
    against the training compute spent (right; models with a MACs record only).

    `curves[task]` holds {model, steps, psnr, gmacs_per_step (None: unknown)}."""
    tasks = sorted(curves)
    fig, axes = plt.subplots(len(tasks), 2, figsize=(9.5, 3.0 * len(tasks)), squeeze=False)
    for (by_step, by_macs), task in zip(axes, tasks):
        costed = False
        for curve in curves[task]:
            line = by_step.plot(curve["steps"], curve["psnr"], marker=".", label=curve["model"])
            if curve["gmacs_per_step"]:
                costed = True
                spent = [s * curve["gmacs_per_step"] / 1e3 for s in curve["steps"]]
                by_macs.plot(spent, curve["psnr"], marker=".", color=line[0].get_color())
        by_step.set(xlabel="training step", ylabel="validation PSNR (dB)", title=task)
        by_macs.set(xlabel="training compute (T MACs)", title=f"{task}, by compute")
        for ax in (by_step, by_macs):
            at_least_span(ax)
            ax.grid(alpha=0.3)
        by_step.legend(fontsize=7)
        if not costed:  # no complexity record of any model: say so rather than leave it empty
            by_macs.text(0.5, 0.5, "no MACs records", ha="center", transform=by_macs.transAxes)
    return save(fig, path)
