"""Has a trained model stopped improving? The plateau criterion and the convergence records.

The criterion (`plateau`): take the validations in the last quarter of the step budget, from
the one at 3/4 of the budget (inclusive) to the end, fit a least-squares line to validation
PSNR against the step, and read its rise over that quarter:

    gain_db = slope (dB per step) x budget / 4

A model has *plateaued* when gain_db < 0.1 dB, is *improving* otherwise, and is *unknown* when
the quarter holds fewer than 3 validations or the curve stops before the budget. A fitted
slope, rather than best-of-quarter minus the value at 3/4, because validation PSNR of a few
hundred steps jitters by tenths of a dB: the best of several noisy values minus one of them is
positive even on a flat curve, while the slope of a flat noisy curve is near zero.

Under a schedule that decays the learning rate to nearly zero at the budget (the recipes'
cosine), a plateau is the schedule's end as much as the model's: it says "converged for this
schedule", never "a longer schedule would gain nothing".

A convergence record (`results/convergence/<task>/<model>-s<seed>.json`, written by the
pipeline's cell, irnext.pipeline.convergence) holds one run's validation curve and its training
compute; this module reads only such records (plain data), never model code.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Sequence
from pathlib import Path
from typing import Any

from irnext.errors import InputError
from irnext.report.load import read_json

THRESHOLD_DB = 0.1  # a gain below this over the last quarter of the budget: plateaued
WINDOW = 0.25  # the last quarter of the budget
MIN_POINTS = 3  # validations needed in the window for a slope that is not one difference
VERDICTS = ("plateaued", "improving", "unknown")


def plateau(
    steps: Sequence[int],
    psnr_db: Sequence[float],
    *,
    budget: int | None = None,
    threshold_db: float = THRESHOLD_DB,
    window: float = WINDOW,
    min_points: int = MIN_POINTS,
) -> dict[str, Any]:
    """{verdict, gain_db (None when unknown), window_start, points, reason} of one curve.

    `budget` is the run's total steps (default: the last validated step)."""
    if len(steps) != len(psnr_db):
        raise InputError(f"{len(steps)} steps but {len(psnr_db)} PSNR values: expected one each")
    if any(b <= a for a, b in zip(steps, steps[1:])):
        raise InputError(f"validation steps {list(steps)} are not strictly increasing")
    budget = int(budget if budget is not None else (steps[-1] if steps else 0))
    start = budget * (1.0 - window)
    points = [(s, y) for s, y in zip(steps, psnr_db) if s >= start]
    result = {"window_start": start, "points": len(points), "gain_db": None}
    if not steps or steps[-1] < budget:
        last = steps[-1] if steps else "none"
        return {**result, "verdict": "unknown", "reason": f"last validation {last} < {budget}"}
    if len(points) < min_points:
        reason = f"{len(points)} validation(s) in the last quarter, {min_points} needed"
        return {**result, "verdict": "unknown", "reason": reason}
    if any(y is None or not math.isfinite(y) for _, y in points):
        return {**result, "verdict": "unknown", "reason": "a non-finite validation PSNR"}
    gain = _slope(points) * budget * window
    verdict = "plateaued" if gain < threshold_db else "improving"
    reason = f"gain {gain:+.3f} dB over the last quarter ({'<' if gain < threshold_db else '>='}"
    return {**result, "gain_db": gain, "verdict": verdict, "reason": f"{reason} {threshold_db})"}


def _slope(points: Sequence[tuple[float, float]]) -> float:
    """Least-squares slope of y against x."""
    mean_x = sum(x for x, _ in points) / len(points)
    mean_y = sum(y for _, y in points) / len(points)
    num = sum((x - mean_x) * (y - mean_y) for x, y in points)
    return num / sum((x - mean_x) ** 2 for x, _ in points)


def combined(verdicts: Iterable[str]) -> str:
    """One model's verdict over its seeds: improving if any seed still improves, unknown if any
    is unknown, plateaued only when every seed plateaued (a ranking is never over-claimed)."""
    found = set(verdicts)
    if not found or not found <= set(VERDICTS):
        raise InputError(f"verdicts {sorted(found)}: expected some of {list(VERDICTS)}")
    return next(v for v in ("improving", "unknown", "plateaued") if v in found)


def read_records(
    results: str | Path, cells: Collection[tuple[str, str, int]] | None = None
) -> list[dict[str, Any]]:
    """The convergence records under RESULTS/convergence, sorted by task, model and seed;
    with `cells`, only those of these (task, model, seed) (a profile's current cells)."""
    found = []
    for path in sorted(Path(results).glob("convergence/*/*.json")):
        record = read_json(path)  # named errors, bounded nesting
        missing = [k for k in ("task", "model", "seed", "steps", "validations") if k not in record]
        if missing:
            raise InputError(f"{path}: missing keys {missing} of a convergence record")
        if cells is None or (record["task"], record["model"], record["seed"]) in cells:
            found.append(record)
    return sorted(found, key=lambda r: (r["task"], r["model"], r["seed"]))


def plateau_verdicts(records: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """One plain dict per run: {task, model, seed, steps, verdict, gain_db, final_val_psnr_db,
    reason}, the criterion of `plateau` applied to each record's validation curve."""
    rows = []
    for r in records:
        steps = [v["step"] for v in r["validations"]]
        psnr = [v["val_psnr_db"] for v in r["validations"]]
        verdict = plateau(steps, psnr, budget=r["steps"])
        rows.append(
            {
                "task": r["task"],
                "model": r["model"],
                "seed": r["seed"],
                "steps": r["steps"],
                "verdict": verdict["verdict"],
                "gain_db": verdict["gain_db"],
                "final_val_psnr_db": psnr[-1] if psnr else None,
                "reason": verdict["reason"],
            }
        )
    return rows


def model_verdicts(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per (task, model): {task, model, seeds, steps, verdict (`combined` over seeds),
    gain_db and final_val_psnr_db (means over seeds; gain None if a seed's is unknown)} from
    the rows of `plateau_verdicts`."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault((row["task"], row["model"]), []).append(row)
    out = []
    for (task, model), runs in sorted(groups.items()):
        finals = [r["final_val_psnr_db"] for r in runs if r["final_val_psnr_db"] is not None]
        gains = [r["gain_db"] for r in runs]
        out.append(
            {
                "task": task,
                "model": model,
                "seeds": sorted(r["seed"] for r in runs),
                "steps": max(r["steps"] for r in runs),
                "verdict": combined(r["verdict"] for r in runs),
                "gain_db": None if None in gains else sum(gains) / len(gains),
                "final_val_psnr_db": sum(finals) / len(finals) if finals else None,
            }
        )
    return out


def with_budget_study(models: Iterable[dict[str, Any]], gains: dict) -> list[dict[str, Any]]:
    """`model_verdicts` rows, each (task, model) whose final validation PSNR the budget study
    (`irnext.report.budget.gains`) saw rise by THRESHOLD_DB or more at a longer budget made
    `improving`, with that gain (`budget_gain_db`, `budget_steps`): the cosine schedule flattens
    every curve's last quarter, so a run's own curve cannot show what more steps would buy."""
    out = []
    for m in models:
        found = gains.get((m["task"], m["model"]))
        if found and found["gain_db"] >= THRESHOLD_DB:
            m = {**m, "verdict": "improving", "budget_gain_db": found["gain_db"]}
            m["budget_steps"] = found["longest_steps"]
        out.append(m)
    return out
