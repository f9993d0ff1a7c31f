"""Evaluation records: per-image CSV, summary JSON, and the papers' cross-set aggregates.

Infinite PSNR (an output equal to its target, as the identity model gives on an undegraded
pair) is kept as +inf in memory and in the CSV ("inf"); a mean over images that include one is
+inf, and JSON, which has no infinity, stores it as null next to `psnr_db_infinite_count`, so a
reader always sees that the mean is unbounded rather than a silently dropped image.
"""

from __future__ import annotations

import csv
import io
import json
import math
import warnings
from pathlib import Path
from typing import Any

from irnext.data.images import is_image_file
from irnext.errors import InputError
from irnext.io import atomic_write_json, atomic_write_text

RAIN13K_SETS = ("test100", "rain100h", "rain100l", "test2800", "test1200")
DPDD_SCENES = {"indoor": 37, "outdoor": 39}  # Abuolaim & Brown 2020, the 76 test scenes
# The test set ("dataset/split") and scene of each image: a paired comparison pairs the same image
# of the same test set, and its interval resamples scenes (irnext.report.stats).
CSV_HEAD = ("name", "test_set", "scene", "group", "height", "width")
IMAGES_MARKER = ".irnext-images.json"  # who wrote a folder of restored images


def _mean(values: list[float]) -> float:
    return math.fsum(values) / len(values) if values else math.nan


def _means(rows: list[dict[str, Any]], metrics: tuple[str, ...]) -> dict[str, float]:
    return {m: _mean([row[m] for row in rows]) for m in (*metrics, "seconds")}


def summarise(rows: list[dict[str, Any]], *, metrics: tuple[str, ...]) -> dict[str, Any]:
    """Means over all images and per group (images whose group is None form no group)."""
    groups = sorted({row["group"] for row in rows if row["group"] is not None})
    return {
        "count": len(rows),
        "means": _means(rows, metrics),
        "group_means": {
            g: {
                "count": sum(r["group"] == g for r in rows),
                **_means([r for r in rows if r["group"] == g], metrics),
            }
            for g in groups
        },
        "psnr_db_infinite_count": sum(math.isinf(row.get("psnr_db", 0.0)) for row in rows),
        "metrics": list(metrics),
    }


def json_safe(value: Any) -> Any:
    """Non-finite floats become null (JSON has no infinity); containers are walked."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


def write_summary(path: str | Path, summary: dict[str, Any]) -> Path:
    """The summary as JSON, written atomically (a crash leaves the previous file whole)."""
    return atomic_write_json(path, json_safe(summary))


def write_rows(path: str | Path, rows: list[dict[str, Any]], *, metrics: tuple[str, ...]) -> Path:
    """Per-image CSV: name, test set, scene, group, height, width, each metric, seconds (inf
    written 'inf'), composed in memory and written atomically."""
    text = io.StringIO(newline="")
    writer = csv.DictWriter(text, fieldnames=[*CSV_HEAD, *metrics, "seconds"])
    writer.writeheader()
    for row in rows:
        writer.writerow({k: ("" if row[k] is None else row[k]) for k in writer.fieldnames})
    return atomic_write_text(path, text.getvalue())


def claim_image_folder(folder: str | Path, source: dict[str, Any]) -> Path:
    """Mark `folder` as holding the restored images of `source` (model, weights, dataset,
    split), or refuse if it already holds images of another source or of an unknown one:
    a folder never mixes two models' outputs under one set of names."""
    folder = Path(folder)
    marker = folder / IMAGES_MARKER
    existing = [p for p in folder.rglob("*") if p.is_file() and is_image_file(p)]
    if existing:
        try:
            previous = json.loads(marker.read_text())
        except (OSError, json.JSONDecodeError):
            previous = None
        if previous != json_safe(source):
            held = "images of unknown origin" if previous is None else f"images of {previous}"
            raise InputError(
                f"{folder}: already holds {len(existing)} {held}; this run would write "
                f"those of {source}. Choose another output folder or delete {folder}"
            )
    atomic_write_json(marker, json_safe(source))
    return folder


def read_summary(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    try:
        summary = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise InputError(f"{path}: not a readable evaluation summary JSON ({error})") from error
    if not isinstance(summary, dict) or "means" not in summary or "dataset" not in summary:
        raise InputError(f"{path}: expected a summary written by `irnext evaluate`")
    return summary


def _finite(summary: dict[str, Any], metric: str) -> float:
    value = summary["means"].get(metric)
    return math.inf if value is None else value


def rain13k_average(summaries: list[dict[str, Any]]) -> dict[str, Any]:
    """The deraining papers' "average": the plain mean of the five per-set means (Test100,
    Rain100H, Rain100L, Test2800, Test1200), not a mean over all 4,300 images.

    All five summaries must be of one model and one set of weights, one split and one protocol,
    each set exactly once. `complete` is False when a set held fewer pairs than published.
    """
    by_set = {s["dataset"]: s for s in summaries}
    if sorted(by_set) != sorted(RAIN13K_SETS) or len(summaries) != len(RAIN13K_SETS):
        found = [s["dataset"] for s in summaries]
        raise InputError(
            f"Rain13K average needs one summary of each of {list(RAIN13K_SETS)}; got {found}"
        )
    for key in ("model", "weights_sha256", "split", "protocol"):
        _same(summaries, key, "Rain13K average")
    metrics = summaries[0]["metrics"]
    return {
        "aggregate": "rain13k_average",
        "model": summaries[0]["model"],
        "weights_sha256": summaries[0].get("weights_sha256"),
        "protocol": summaries[0]["protocol"],
        "complete": _all_complete(summaries),
        "means": {m: _mean([_finite(by_set[name], m) for name in RAIN13K_SETS]) for m in metrics},
        "per_set": {name: {m: by_set[name]["means"][m] for m in metrics} for name in RAIN13K_SETS},
    }


def dpdd_aggregates(summary: dict[str, Any]) -> dict[str, Any]:
    """DPDD's indoor (37), outdoor (39) and combined (76) scores: means over the images of each
    scene category and over all images (Abuolaim & Brown 2020; Restormer Table 4)."""
    if summary.get("dataset") != "dpdd" or summary.get("split") != "test":
        raise InputError(
            "DPDD aggregates need a summary of dpdd's test split; got dataset "
            f"'{summary.get('dataset')}', split '{summary.get('split')}'"
        )
    groups = summary.get("group_means", {})
    if sorted(groups) != ["indoor", "outdoor"]:
        raise InputError(
            "DPDD summary has no indoor/outdoor group means; evaluate with "
            "group_lists={'indoor': FILE, 'outdoor': FILE}"
        )
    metrics = summary["metrics"]
    counts = {g: groups[g]["count"] for g in ("indoor", "outdoor")}
    if counts != DPDD_SCENES:
        warnings.warn(
            f"DPDD groups hold {counts}; the published test split has {DPDD_SCENES}",
            stacklevel=2,
        )
    return {
        "aggregate": "dpdd",
        "model": summary["model"],
        "weights_sha256": summary.get("weights_sha256"),
        "protocol": summary["protocol"],
        "complete": counts == DPDD_SCENES,
        **{
            g: {"count": groups[g]["count"], **{m: groups[g][m] for m in metrics}}
            for g in ("indoor", "outdoor")
        },
        "combined": {"count": summary["count"], **{m: summary["means"][m] for m in metrics}},
    }


def _all_complete(summaries: list[dict[str, Any]]) -> bool | None:
    """False if any summary's split was short of its published size, True if all matched,
    None when a size is not on record."""
    flags = [s.get("complete") for s in summaries]
    if False in flags:
        return False
    return True if all(flags) else None


def _same(summaries: list[dict[str, Any]], key: str, what: str) -> None:
    values = {str(s.get(key)) for s in summaries}
    if len(values) > 1:
        raise InputError(f"{what}: summaries differ in {key} ({sorted(values)}); expected one")
