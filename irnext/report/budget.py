"""The budget study in the report: final validation PSNR of each model trained from scratch at
several step budgets (`benchmarks/budget_curves.py` writes `results/budget/budget.csv`), and
whether the ranking at the profile's budget is the ranking at the longest budget studied.

Each budget is its own run with its own warm-up and cosine decay, so a point is what a profile
with that budget ends at; a single long run's curve at an early step would not be."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from irnext.errors import InputError
from irnext.report.figures import plt, save
from irnext.report.sections import Context
from irnext.report.tables import frame

COLUMNS = ("task", "model", "seed", "budget_steps", "final_val_psnr_db")


def read_budget(path: Path) -> list[dict[str, Any]]:
    """The study's rows, typed; a missing column or a non-number is a named error."""
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    missing = [c for c in COLUMNS if rows and c not in rows[0]]
    if missing:
        raise InputError(f"{path}: columns {missing} missing; expected at least {list(COLUMNS)}")
    try:
        return [
            {**r, "seed": int(r["seed"]), "budget_steps": int(r["budget_steps"]),
             "final_val_psnr_db": float(r["final_val_psnr_db"])}
            for r in rows
        ]  # fmt: skip
    except ValueError as error:
        raise InputError(f"{path}: {error}; expected integer steps and seeds, PSNR in dB") from None


def ranking(rows: Sequence[dict[str, Any]], task: str, budget: int) -> list[str]:
    """Models of `task` at `budget`, best final validation PSNR first (mean over seeds)."""
    scores: dict[str, list[float]] = {}
    for r in rows:
        if r["task"] == task and r["budget_steps"] == budget:
            scores.setdefault(r["model"], []).append(r["final_val_psnr_db"])
    means = {model: sum(v) / len(v) for model, v in scores.items()}
    return sorted(means, key=lambda model: -means[model])


def verdicts(rows: Sequence[dict[str, Any]], budgets: dict[str, int]) -> list[dict[str, Any]]:
    """Per task of the study: the ranking at the profile's budget (`budgets[task]`, the steps
    its cells trained) and at the longest studied budget, and whether they agree."""
    found = []
    for task in sorted({r["task"] for r in rows}):
        studied = sorted({r["budget_steps"] for r in rows if r["task"] == task})
        profile = budgets.get(task)
        longest = studied[-1]
        at_profile = ranking(rows, task, profile) if profile in studied else None
        at_longest = ranking(rows, task, longest)
        found.append(
            {
                "task": task,
                "budgets": studied,
                "profile_steps": profile,
                "longest_steps": longest,
                "at_profile": at_profile,
                "at_longest": at_longest,
                "agree": None if at_profile is None else at_profile == at_longest,
            }
        )
    return found


def gains(rows: Sequence[dict[str, Any]], budgets: dict[str, int]) -> dict[tuple, dict]:
    """(task, model) -> {gain_db, longest_steps}: the final validation PSNR the study's longest
    budget adds to the profile's budget (`budgets[task]`), for the pairs studied at both."""
    found = {}
    for v in verdicts(rows, budgets):
        if v["at_profile"] is None or v["longest_steps"] == v["profile_steps"]:
            continue
        for model in v["at_longest"]:
            ends = (v["profile_steps"], v["longest_steps"])
            at = {b: _psnr(rows, v["task"], model, b) for b in ends}
            if "-" not in at.values():
                gain = at[v["longest_steps"]] - at[v["profile_steps"]]
                found[(v["task"], model)] = {"gain_db": gain, "longest_steps": v["longest_steps"]}
    return found


def budget_figure(rows: Sequence[dict[str, Any]], path: Path) -> Path:
    """Final validation PSNR against the step budget, one panel per task, a line per model."""
    tasks = sorted({r["task"] for r in rows})
    fig, axes = plt.subplots(1, len(tasks), figsize=(4.4 * len(tasks), 3.4), squeeze=False)
    for ax, task in zip(axes[0], tasks):
        for model in sorted({r["model"] for r in rows if r["task"] == task}):
            points = sorted(
                (r["budget_steps"], r["final_val_psnr_db"])
                for r in rows
                if r["task"] == task and r["model"] == model
            )
            ax.plot(*zip(*points), marker="o", ms=4, label=model)
        ax.set(xscale="log", xlabel="step budget (own schedule each)", title=task)
        ax.set(ylabel="final validation PSNR (dB)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    return save(fig, path)


def _line(v: dict[str, Any]) -> str:
    longest = " > ".join(f"`{m}`" for m in v["at_longest"])
    if v["at_profile"] is None:
        return (
            f"- **{v['task']}**: the profile's budget ({v['profile_steps']} steps) was not "
            f"studied; at {v['longest_steps']} steps: {longest}."
        )
    profile = " > ".join(f"`{m}`" for m in v["at_profile"])
    same = "the same ranking" if v["agree"] else "a **different** ranking"
    return (
        f"- **{v['task']}**: at the profile's {v['profile_steps']} steps {profile}; at "
        f"{v['longest_steps']} steps {longest}: {same} (one seed, validation split)."
    )


def section(path: Path, budgets: dict[str, int], context: Context) -> str:
    """The report's budget-study subsection from the study's table `path` ('' when the study
    was not run)."""
    if not path.exists():
        return ""
    rows = read_budget(path)
    if not rows:
        raise InputError(f"{path}: no rows; expected one per (task, model, budget)")
    studied = sorted({r["budget_steps"] for r in rows})
    figure = budget_figure(rows, context.figure("budget.png"))
    table = frame(
        ["task", "model", *(f"{b} steps" for b in studied)],
        [
            [task, model, *(_psnr(rows, task, model, b) for b in studied)]
            for task, model in sorted({(r["task"], r["model"]) for r in rows})
        ],
    )
    seeds = sorted({r["seed"] for r in rows})
    return "\n".join(
        [
            "### Budget study",
            "",
            "How the step budget was chosen: each model trained from scratch at each budget "
            f"(seed{'s' if len(seeds) > 1 else ''} {', '.join(map(str, seeds))}; its own "
            "warm-up and cosine decay per budget, the profile's recipe otherwise), final "
            f"validation PSNR in dB (`{context.link(path)}`, written by "
            "`benchmarks/budget_curves.py`). Test scenes were not looked at.",
            "",
            context.table(table, "budget"),
            "",
            *(_line(v) for v in verdicts(rows, budgets)),
            "",
            f"![final validation PSNR against the step budget]({context.link(figure)})",
        ]
    )


def _psnr(rows: Sequence[dict[str, Any]], task: str, model: str, budget: int) -> Any:
    values = [
        r["final_val_psnr_db"]
        for r in rows
        if (r["task"], r["model"], r["budget_steps"]) == (task, model, budget)
    ]
    return sum(values) / len(values) if values else "-"
