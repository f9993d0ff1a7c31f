"""The report's convergence section: validation PSNR against training steps and against
training compute (one panel per task, every model: the mean over seeds with the seeds' range),
each model's plateau verdict, and a line per task saying what its ranking can claim."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from irnext.pipeline import layout
from irnext.report import budget, convergence
from irnext.report.figures import plt, save
from irnext.report.sections import Context
from irnext.report.tables import frame

UNITS = ((1e15, "PMACs"), (1e12, "TMACs"), (1e9, "GMACs"), (1.0, "MACs"))


def seed_band(records: Sequence[dict[str, Any]]) -> dict[str, list[float]]:
    """{step, mean, low, high} of validation PSNR over the seeds of one model, at the steps
    every seed validated (a step some seed lacks would average unlike sets)."""
    curves = [{v["step"]: v["val_psnr_db"] for v in r["validations"]} for r in records]
    shared = sorted(set.intersection(*(set(c) for c in curves))) if curves else []
    shared = [s for s in shared if all(c[s] is not None for c in curves)]
    values = [[c[s] for c in curves] for s in shared]
    return {
        "step": shared,
        "mean": [statistics.fmean(v) for v in values],
        "low": [min(v) for v in values],
        "high": [max(v) for v in values],
    }


def _by_model(records: Sequence[dict[str, Any]], task: str) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for r in records:
        if r["task"] == task and r["validations"]:
            found.setdefault(r["model"], []).append(r)
    return found


def _unit(records: Sequence[dict[str, Any]]) -> tuple[float, str]:
    spent = max(r["steps"] * r["train_macs_per_step"] for r in records)
    return next((scale, name) for scale, name in UNITS if spent >= scale or scale == 1.0)


def validation_figure(records: Sequence[dict[str, Any]], path: Path, *, x: str) -> Path:
    """Validation PSNR against `x` = "steps" or "compute" (MACs spent: step x training MACs
    per step), one panel per task with a validation curve, one line and band per model."""
    tasks = sorted({r["task"] for r in records if r["validations"]})
    columns = min(3, len(tasks))
    rows = -(-len(tasks) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(4.8 * columns, 3.4 * rows), squeeze=False)
    scale, unit = _unit(records) if x == "compute" else (1.0, "")
    for ax, task in zip(axes.flat, tasks):
        for model, runs in sorted(_by_model(records, task).items()):
            band = seed_band(runs)
            per_step = runs[0].get("train_macs_per_step", 0) / scale
            xs = [s * per_step for s in band["step"]] if x == "compute" else band["step"]
            line = ax.plot(xs, band["mean"], marker="o", ms=3, lw=1.2, label=model)[0]
            if len(runs) > 1:
                ax.fill_between(xs, band["low"], band["high"], color=line.get_color(), alpha=0.2)
        label = f"training compute ({unit} spent)" if x == "compute" else "training step"
        ax.set(xlabel=label, ylabel="validation PSNR (dB)", title=task)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    for ax in list(axes.flat)[len(tasks) :]:
        fig.delaxes(ax)  # no empty panels
    return save(fig, path)


def _ranking_line(task: str, models: list[dict[str, Any]], test_psnr: dict) -> str:
    """What the task's ranking can claim, given its models' plateau verdicts (with the budget
    study's, `convergence.with_budget_study`)."""
    score = {m["model"]: test_psnr.get((task, m["model"]), m["final_val_psnr_db"]) for m in models}
    source = "test" if all((task, m["model"]) in test_psnr for m in models) else "final validation"
    ranked = sorted((name for name in score if score[name] is not None), key=lambda n: -score[n])
    order = " > ".join(f"`{name}` ({score[name]:.2f} dB)" for name in ranked)
    steps = max(m["steps"] for m in models)
    improving = _improving([m for m in models if m["verdict"] == "improving"])
    unknown = [f"`{m['model']}`" for m in models if m["verdict"] == "unknown"]
    if not improving and not unknown:
        return (
            f"- **{task}**: every model had plateaued by {steps} steps, at the end of this "
            f"schedule; ranking by {source} PSNR: {order}. Converged for this schedule; not "
            "shown to hold at a longer budget."
        )
    if improving:
        label = f"at {steps} steps, still improving ({improving})"
    else:
        label = f"at {steps} steps, convergence not shown ({', '.join(unknown)} unknown)"
    return (
        f"- **{task}**: {label}: {order} by {source} PSNR. A ranking at this budget, not an "
        "architecture result."
    )


def _verdict(model: dict[str, Any]) -> str:
    if "budget_gain_db" not in model:
        return model["verdict"]
    return f"{model['verdict']} (budget study: {model['budget_gain_db']:+.2f} dB at " \
        f"{model['budget_steps']} steps)"  # fmt: skip


def _improving(models: list[dict[str, Any]]) -> str:
    """ "`a` not plateaued; budget study, final validation PSNR at 512 steps: `b` +2.38 dB"."""
    curves = [f"`{m['model']}` not plateaued" for m in models if "budget_gain_db" not in m]
    studied = [m for m in models if "budget_gain_db" in m]
    if studied:
        longest = max(m["budget_steps"] for m in studied)
        gains = ", ".join(f"`{m['model']}` {m['budget_gain_db']:+.2f} dB" for m in studied)
        curves.append(f"budget study, final validation PSNR at {longest} steps: {gains}")
    return "; ".join(curves)


def write_csv(rows: Sequence[dict[str, Any]], path: Path) -> Path:
    """The per-run verdicts as CSV (full-precision numbers: results are data)."""
    import pandas as pd

    from irnext.io import atomic_write_text

    return atomic_write_text(path, pd.DataFrame(list(rows)).to_csv(index=False))


def _signed(gain: float | None) -> str:
    return "-" if gain is None else f"{gain:+.2f}"


def _test_psnr(evaluations: Sequence[dict[str, Any]]) -> dict[tuple[str, str], float]:
    """(task, model) -> the mean over seeds of the test PSNR, from the evaluation summaries."""
    found: dict[tuple[str, str], list[float]] = {}
    for e in evaluations:
        psnr = ((e.get("summary") or {}).get("means") or {}).get("psnr_db")
        if e.get("seed") is not None and psnr is not None:
            found.setdefault((e["task"], e["model"]), []).append(float(psnr))
    return {key: statistics.fmean(values) for key, values in found.items()}


INTRO = (
    "Every trained cell validated on its task's `val` split (further crops and degradation "
    "draws of the training photographs; never a test scene) at regular steps. The compared "
    "checkpoint is the last one, not the best by validation. A model has *plateaued* when the "
    "least-squares line through its validation PSNR over the last quarter of the budget (from "
    f"3/4 of the budget to the end, at least {convergence.MIN_POINTS} validations) rises by "
    f"less than {convergence.THRESHOLD_DB} dB over that quarter (`irnext.report.convergence`); "
    "with several seeds it has plateaued only when every seed has. Training compute is the "
    "step times the training MACs per step: the forward MACs of one training batch times 3 "
    "for forward and backward (docs/training.md). Curves: mean over seeds, band: the seeds' "
    "range. Two limits: the learning rate follows a cosine to nearly zero at the end of the "
    "budget, so a curve flattens in its last quarter partly because the steps shrink; "
    "*plateaued* means converged for this schedule, not that a longer schedule would gain "
    "nothing. And the validation images are new crops of the training photographs: they show "
    "how far the fit has gone, while the test scenes measure generalisation."
)


def render(results: Path, data: dict[str, Any], context: Context) -> str:
    """The section's Markdown (figures and table written beside the report)."""
    records = data["convergence"]  # the profile's cells (render_report)
    if not any(r["validations"] for r in records):
        return "## Convergence\n\n(no validation curves found: the profile sets no " \
            "train.val_every_steps, or no cell has run)"  # fmt: skip
    runs = convergence.plateau_verdicts(records)
    models = list(data["plateaus"].values())  # with the budget study's (render_report)
    verdicts = write_csv(runs, context.table.folder / "plateau.csv")
    steps = validation_figure(records, context.figures / "validation_steps.png", x="steps")
    compute = validation_figure(records, context.figures / "validation_compute.png", x="compute")
    rows = [
        [m["task"], m["model"], len(m["seeds"]), m["steps"], m["final_val_psnr_db"]]
        + [_signed(m["gain_db"]), _verdict(m)]
        for m in models
    ]
    header = ["task", "model", "seeds", "steps", "final val PSNR (dB)", "last-quarter gain (dB)"]
    header += ["plateau"]
    test_psnr = _test_psnr(data.get("evaluations") or [])
    tasks = sorted({m["task"] for m in models})
    steps_of = {t: max(m["steps"] for m in models if m["task"] == t) for t in tasks}
    lines = [
        "## Convergence",
        "",
        INTRO,
        "",
        context.table(frame(header, rows), "convergence"),
        "",
        f"Every run's verdict, gain and reason: `{context.link(verdicts)}`.",
        "",
        *(_ranking_line(t, [m for m in models if m["task"] == t], test_psnr) for t in tasks),
        "",
        f"![validation PSNR against training steps]({context.link(steps)})",
        "",
        f"![validation PSNR against training compute]({context.link(compute)})",
    ]
    section = budget.section(layout.budget_table(results), steps_of, context)
    return "\n".join(lines + ["", section] if section else lines)
