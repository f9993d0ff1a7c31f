"""Reading the pipeline's result files (the folders listed in `irnext.report.render`).

Every reader names the file it failed on: a truncated or malformed JSON or CSV is an
`InputError` with the path (and line/column), never a traceback. Nothing is invented: a part
that is absent is returned empty and the report says it is missing.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from irnext.errors import InputError
from irnext.limits import check_json_nesting
from irnext.names import check_name
from irnext.pipeline import layout
from irnext.pipeline.layout import PER_IMAGE, history_path, run_file, split_stem
from irnext.report.cells import Profile, check_task, profile_evaluations


def read_json(path: Path) -> Any:
    try:
        text = path.read_text()
    except OSError as error:
        raise InputError(f"{path}: cannot read: {error.strerror or error}") from error
    check_json_nesting(text, path)
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise InputError(
            f"{path}: not valid JSON (line {error.lineno}, column {error.colno}): {error.msg}; "
            "a truncated file? rerun the stage that writes it"
        ) from None


def read_json_if_present(path: Path) -> Any:
    """A run file beside a result (timings, environment): None where it was never written."""
    return read_json(path) if path.is_file() else None


def require(record: Any, keys: Iterable[str], path: Path, kind: type = dict) -> Any:
    """`record` must be a `kind` (a mapping: holding `keys`); names the file otherwise."""
    if not isinstance(record, kind):
        raise InputError(f"{path}: expected a JSON {kind.__name__}, got {type(record).__name__}")
    if kind is dict:
        missing = [k for k in keys if k not in record]
        if missing:
            raise InputError(f"{path}: missing key(s) {', '.join(missing)}")
    return record


def read_per_image(path: Path) -> pd.DataFrame | None:
    """per_image.csv (name, test_set, scene, group, height, width, metrics...) indexed by
    image name."""
    if not path.is_file():
        return None
    try:
        frame = pd.read_csv(path, dtype={"name": str, "group": str, "scene": str})
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise InputError(f"{path}: not a readable CSV: {error}") from None
    if "name" not in frame.columns:
        raise InputError(f"{path}: no 'name' column (columns: {', '.join(frame.columns)})")
    for metric in ("psnr_db", "ssim"):
        if metric in frame.columns:
            try:
                frame[metric] = frame[metric].astype(float)
            except ValueError as error:
                raise InputError(f"{path}: column {metric!r} is not numeric: {error}") from None
    if frame["name"].duplicated().any():
        raise InputError(
            f"{path}: image names repeat: {sorted(set(frame['name'][frame['name'].duplicated()]))}"
        )
    return frame.set_index("name")


def read_run(path: Path, task: str, seed: int | None) -> dict[str, Any]:
    """One evaluation: its summary, per-image scores and run stamp."""
    summary = require(read_json(path), ("model", "means"), path)
    require(summary["means"], (), path)
    return {
        "task": task,
        "model": summary["model"],
        "seed": seed,
        "test_set": f"{summary.get('dataset')}/{summary.get('split')}",
        "summary": summary,
        "per_image": read_per_image(path.parent / PER_IMAGE),
        "run": read_json_if_present(path.parent / "run.json"),
        "path": path,
    }


def evaluations(results: Path, profile: Profile | None = None) -> dict[str, list]:
    """{"evaluations", "missing", "ignored"}: the profile's cells (`irnext.report.cells`), or
    without a profile every evaluate/**/summary.json found, each task's runs checked to score
    one test set.

    evaluate/<task>/<model>-s<seed>/ (and evaluate/<task>/identity/) are keyed by the task
    folder; summaries elsewhere (`irnext evaluate`'s default folder) by their dataset/split.
    """
    if profile is not None:
        return profile_evaluations(results, profile, read_run)
    found = []
    root = results / "evaluate"
    for path in sorted(root.glob("**/summary.json")):
        parts = path.relative_to(root).parts
        seed = split_stem(parts[1])[1] if len(parts) == 3 else None
        summary = require(read_json(path), ("model", "means"), path)
        task = parts[0] if len(parts) == 3 else _summary_task(summary, path)
        found.append(read_run(path, task, seed))
    for task in {e["task"] for e in found}:
        check_task([e for e in found if e["task"] == task])
    return {"evaluations": found, "missing": [], "ignored": []}


def _summary_task(summary: dict[str, Any], path: Path) -> str:
    """'DATASET / SPLIT' of a summary outside a task folder; both name the report's files."""
    for key in ("dataset", "split"):
        check_name(summary.get(key), what=key, source=path)
    return f"{summary['dataset']} / {summary['split']}"


def histories(results: Path, profile: Profile | None = None) -> list[dict[str, Any]]:
    """train/<task>/<model>-s<seed>.json (and the older train/<task>.json); only the
    profile's cells when given (a history of a model or seed left from an earlier profile is
    not read)."""
    found = []
    for path in _history_paths(results, profile):
        history = require(read_json(path), ("model", "epochs"), path)
        for epoch in require(history["epochs"], (), path, kind=list):
            require(epoch, ("loss",), path)
        nested = path.parent != results / "train"
        task = path.parent.name if nested else path.stem
        seed = split_stem(path.stem)[1] if nested else (history.get("config") or {}).get("seed")
        found.append(
            {
                "task": task,
                "model": history["model"],
                "seed": seed,
                "history": history,
                "run": read_json_if_present(run_file(path)),
                "path": path,
            }
        )
    return found


def _history_paths(results: Path, profile: Profile | None) -> list[Path]:
    if profile is None:
        found = sorted((results / "train").glob("**/*.json"))
        return [p for p in found if not p.name.endswith(".run.json")]
    cells = [(t, m, s) for t in profile.tasks for m, s in profile.cells(t) if s is not None]
    paths = [history_path(results, task, model, seed) for task, model, seed in cells]
    return [path for path in paths if path.is_file()]


def records(path: Path, keys: Iterable[str]) -> list[dict[str, Any]]:
    """A JSON list of records (or one record), each holding `keys`; [] if the file is absent."""
    if not path.is_file():
        return []
    value = read_json(path)
    rows = value if isinstance(value, list) else [value]
    return [require(r, keys, path) for r in rows]


def latency(results: Path) -> list[dict[str, Any]]:
    found = []
    for path in sorted(layout.latency_folder(results).glob("*.json")):
        if not path.name.endswith(".run.json"):
            found += records(path, ("model", "latency_ms_median"))
    return found


def ablations(results: Path) -> list[dict[str, Any]]:
    found = []
    for path in sorted((results / "ablations").glob("*.json")):
        if path.name.endswith(".run.json"):
            continue
        study = require(read_json(path), ("study", "title", "variants"), path)
        check_name(study["study"], what="study", source=path)  # names its figure and table
        for variant in require(study["variants"], (), path, kind=list):
            require(variant, ("variant", "params"), path)
        found.append({**study, "_run": read_json_if_present(run_file(path)), "_path": path})
    return found


def visuals(results: Path) -> dict[str, dict[str, Any]]:
    """visual/<task>/visual.json with the folder it describes."""
    found = {}
    for path in sorted((results / "visual").glob("*/visual.json")):
        spec = require(read_json(path), ("models",), path)
        for model in require(spec["models"], (), path, kind=list):
            check_name(model, what="models entry", source=path)  # names a PNG it reads
        found[path.parent.name] = {
            **spec,
            "_folder": path.parent,
        }
    return found


def collect(results: Path, profile: Profile | None = None) -> dict[str, Any]:
    """The result files under `results`, grouped by kind; evaluations of `profile`'s cells
    only, when given (`evaluations`)."""
    complexity = layout.complexity_path(results)
    return {
        "contact_sheets": sorted(results.glob("synth/*.png")),
        **evaluations(results, profile),
        "histories": histories(results, profile),
        "aggregates": [read_json(p) for p in sorted(results.glob("aggregates/*.json"))],
        "complexity": records(complexity, ("model", "params")),
        "complexity_run": read_json_if_present(run_file(complexity)),
        "latency": latency(results),
        "scaling": records(layout.scaling_path(results), ("model", "size")),
        "ablations": ablations(results),
        "visuals": visuals(results),
    }
