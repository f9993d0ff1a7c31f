"""The report's comparisons as data: per-image scores by seed, families, and their CSV rows.

A model's scores are `{seed: {(test set, image name): PSNR}}` with each image's scene beside
them, so `irnext.report.stats` pairs the same image of the same test set and resamples seeds and
scenes. A family is every comparison with one reference within one task (or one ablation
study); its p-values are Holm-corrected together.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import numpy as np

from irnext.report import stats

CSV_COLUMNS = (
    "task",
    "model",
    "reference",
    "mean_difference_db",
    "low_db",
    "high_db",
    "interval_level",
    "p_value",
    "p_holm",
    "resolved",
    "p_improvement",
    "family_size",
    "scenes",
    "images",
    "seeds",
    "budget_steps",
    "plateau",
)


class Scores:
    """Per model: {seed: {image key: PSNR}}; per image key: its scene."""

    def __init__(self) -> None:
        self.runs: dict[str, dict[Any, dict[Hashable, float]]] = {}
        self.scenes: dict[Hashable, str] = {}

    def add(self, model: str, seed: Any, values: Mapping[Hashable, float], scenes) -> None:
        self.runs.setdefault(model, {})[seed] = dict(values)
        self.scenes.update(scenes)

    def counts(self, model: str) -> dict[str, int]:
        """Scenes, images and seeds that `model`'s scores rest on."""
        runs = self.runs[model]
        keys = next(iter(runs.values()))
        return {
            "scenes": len({self.scenes[k] for k in keys}),
            "images": len(keys),
            "seeds": len(runs),
        }

    def own_interval(self, model: str) -> stats.Interval | str:
        """The model's mean PSNR with its two-level interval, or why there is none."""
        runs = self.runs[model]
        keys = sorted(next(iter(runs.values())), key=str)
        try:
            values = np.array([[scores[k] for k in keys] for scores in runs.values()])
            return stats.hierarchical_bootstrap(values, [self.scenes[k] for k in keys]).interval()
        except (KeyError, ValueError) as error:
            return f"n/a ({error})"


def evaluation_scores(entries: Sequence[dict[str, Any]]) -> Scores:
    """Scores of `irnext.report.load` evaluation entries (their per_image.csv)."""
    scores = Scores()
    for e in entries:
        table = e["per_image"]
        if table is None or "psnr_db" not in table.columns or "scene" not in table.columns:
            continue
        keys = [(e["test_set"], name) for name in table.index]
        values = dict(zip(keys, table["psnr_db"].astype(float), strict=True))
        scores.add(e["model"], e["seed"], values, zip(keys, table["scene"], strict=True))
    return scores


def family(
    scores: Scores, reference: str, models: Sequence[str]
) -> dict[str, stats.Comparison | str]:
    """Each of `models` against `reference`, Holm-corrected together; a string says why a
    model has no comparison."""
    differences: dict[str, tuple[np.ndarray, list[str]]] = {}
    reasons: dict[str, str] = {}
    for model in models:
        if model == reference:
            continue
        if model not in scores.runs or reference not in scores.runs:
            reasons[model] = "no per-image scores"
            continue
        try:
            keys, values = stats.paired_differences(scores.runs[model], scores.runs[reference])
        except ValueError as error:
            reasons[model] = f"n/a ({error})"
            continue
        if not np.all(np.isfinite(values)):
            reasons[model] = "not finite (an identical pair has infinite PSNR)"
            continue
        differences[model] = (values, [scores.scenes[k] for k in keys])
    return {**stats.compare_family(differences), **reasons}


def csv_rows(
    task: str,
    reference: str,
    found: Mapping[str, stats.Comparison | str],
    *,
    budgets: Mapping[str, Any] | None = None,
    plateaus: Mapping[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """One CSV row (CSV_COLUMNS) per comparison of a family."""
    rows = []
    for model, result in found.items():
        row: dict[str, Any] = dict.fromkeys(CSV_COLUMNS)
        row.update(task=task, model=model, reference=reference)
        row["budget_steps"] = (budgets or {}).get(model)
        row["plateau"] = (plateaus or {}).get(model, "not measured")
        if isinstance(result, stats.Comparison):
            interval = result.interval
            row.update(
                mean_difference_db=round(interval.mean, 4),
                low_db=round(interval.low, 4),
                high_db=round(interval.high, 4),
                interval_level=round(result.level, 6),
                p_value=round(result.p_value, 6),
                p_holm=round(result.p_holm, 6),
                resolved=result.resolved,
                p_improvement=round(result.p_improvement, 4),
                family_size=result.family_size,
                scenes=interval.scenes,
                images=interval.count,
                seeds=interval.seeds,
            )
        rows.append(row)
    return rows
