"""The files of `irnext evaluate --out DIR`: scores apart from timings.

DIR/summary.json and DIR/per_image.csv hold scores and what they were computed from, nothing
that changes from run to run (no seconds, no environment stamp, no timestamp), so re-running an
evaluation rewrites them byte for byte. DIR/run.json holds the timings (totals, images/s, each
image's seconds) and the environment stamp.
"""

from __future__ import annotations

import copy
import csv
import io
from pathlib import Path
from typing import Any

from irnext.evaluation.records import CSV_HEAD, json_safe, write_summary
from irnext.evaluation.timing import RUN_KEYS
from irnext.io import atomic_write_json, atomic_write_text


def split_run(
    rows: list[dict[str, Any]], summary: dict[str, Any]
) -> tuple[list[dict[str, Any]], dict[str, Any], dict[str, Any]]:
    """(rows without seconds, summary without timings or environment, the run record)."""
    scores = copy.deepcopy({k: v for k, v in summary.items() if k not in RUN_KEYS})
    run = {k: summary[k] for k in RUN_KEYS if k in summary}
    run["seconds_mean"] = scores["means"].pop("seconds", None)
    for group in scores.get("group_means", {}).values():
        group.pop("seconds", None)
    run["per_image_seconds"] = {row["name"]: row.get("seconds") for row in rows}
    score_rows = [{k: v for k, v in row.items() if k != "seconds"} for row in rows]
    return score_rows, scores, run


def write_score_rows(path: str | Path, rows: list[dict[str, Any]], *, metrics) -> Path:
    """Per-image CSV: name, test set, scene, group, height, width, each metric (inf written
    'inf')."""
    text = io.StringIO(newline="")
    writer = csv.DictWriter(text, fieldnames=[*CSV_HEAD, *metrics], extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: ("" if row[k] is None else row[k]) for k in writer.fieldnames})
    return atomic_write_text(path, text.getvalue())


def write_evaluation(
    out: str | Path, rows: list[dict[str, Any]], summary: dict[str, Any]
) -> dict[str, Path]:
    """DIR/summary.json, DIR/per_image.csv (scores) and DIR/run.json (timings, environment)."""
    out = Path(out)
    score_rows, scores, run = split_run(rows, summary)
    return {
        "summary": write_summary(out / "summary.json", scores),
        "per_image": write_score_rows(out / "per_image.csv", score_rows, metrics=scores["metrics"]),
        "run": atomic_write_json(out / "run.json", json_safe(run)),
    }
