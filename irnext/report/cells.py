"""The cells a report reads: exactly the profile's (task x model x seed), checked to be one test.

A comparison is only meaningful between runs scored on the same images under the same protocol.
`profile_evaluations` reads `evaluate/<task>/identity/` and `evaluate/<task>/<model>-s<seed>/`
(irnext.pipeline.layout) for the profile's tasks, models and seeds and nothing else: folders of
models or seeds no longer in the profile are listed as ignored, a cell without its summary is
listed as missing, and a run whose dataset, split, protocol or image list differs from its
task's reference (the identity's, which scores the test set itself) is an `InputError` naming
both files. Where a task has runs to compare, each `per_image.csv` must hold every image of the
test set exactly once, with its scene.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from irnext.errors import InputError
from irnext.pipeline.layout import IDENTITY, evaluation_folder, summary_paths

TEST_KEYS = ("dataset", "split", "protocol")  # what makes two runs scores of one test


def seed_problem(seeds: Any) -> str | None:
    """Why `seeds` is not a usable list of training seeds, or None."""
    if not isinstance(seeds, (list, tuple)) or not seeds:
        return "expected a non-empty list of distinct integer seeds (e.g. [0, 1, 2])"
    repeated = sorted({s for s in seeds if list(seeds).count(s) > 1})
    if repeated:
        return f"seed(s) {repeated} repeat: a repeated seed is the same run, not another one"
    return None


@dataclass(frozen=True)
class Profile:
    """What a report compares: per task, its models (resolved names) and the common seeds;
    `datasets` optionally names each task's test dataset (e.g. synth-haze)."""

    tasks: tuple[str, ...]
    models: Mapping[str, tuple[str, ...]]
    seeds: tuple[int, ...]
    datasets: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        problem = seed_problem(self.seeds)
        if problem:
            raise InputError(f"profile seeds {list(self.seeds)!r}: {problem}")
        for task in self.tasks:
            names = list(self.models.get(task, ()))
            if not names or len(set(names)) != len(names):
                raise InputError(
                    f"profile models of task {task!r}: {names}; expected distinct names"
                )

    def cells(self, task: str) -> list[tuple[str, int | None]]:
        return [(IDENTITY, None)] + [(m, s) for m in self.models[task] for s in self.seeds]


def profile_evaluations(results: Path, profile: Profile, read_run) -> dict[str, list]:
    """{"evaluations": entries, "missing": cells, "ignored": folders} of the profile's cells;
    `read_run(summary_path, task, seed)` reads one run (irnext.report.load)."""
    found: list[dict[str, Any]] = []
    missing: list[dict[str, Any]] = []
    for task in profile.tasks:
        task_runs = []
        for model, seed in profile.cells(task):
            folder = evaluation_folder(results, task, model, seed)
            paths = summary_paths(folder)
            if not paths:
                missing.append({"task": task, "model": model, "seed": seed, "path": folder})
            for test_set, path in paths.items():
                label = f"{task} / {test_set}" if test_set else task
                task_runs.append(read_run(path, label, seed))
        for label in sorted({r["task"] for r in task_runs}):
            check_task([r for r in task_runs if r["task"] == label], profile.datasets.get(task))
        found += task_runs
    read = {e["path"].parent for e in found} | {m["path"] for m in missing}
    found_all = (results / "evaluate").glob("**/summary.json")
    ignored = sorted(p.parent for p in found_all if not _within(p.parent, read))
    return {"evaluations": found, "missing": missing, "ignored": ignored}


def _within(folder: Path, read: set[Path]) -> bool:
    return folder in read or any(parent in read for parent in folder.parents)


def check_task(runs: Sequence[dict[str, Any]], dataset: str | None = None) -> None:
    """Every run of one task scores the reference's test set (the identity's, else the first
    run's): same dataset, split, protocol, images and scenes; raises `InputError` otherwise."""
    if not runs:
        return
    reference = next((r for r in runs if r["model"] == IDENTITY), runs[0])
    if dataset is not None and reference["summary"].get("dataset") != dataset:
        raise InputError(
            f"{reference['path']}: dataset {reference['summary'].get('dataset')!r}; the "
            f"profile's test set of task {reference['task']!r} is {dataset!r}"
        )
    for run in runs:
        _check_same_summary(run, reference)
    if len(runs) > 1:  # a comparison: image by image, scene by scene
        for run in runs:
            _check_images(run)
            _check_same_images(run, reference)


def _check_images(run: dict[str, Any]) -> None:
    """per_image.csv exists, names each image once (load.read_per_image) with its scene, and
    holds as many rows as the summary counted."""
    table, where = run["per_image"], run["path"].parent / "per_image.csv"
    if table is None:
        raise InputError(f"{where}: missing; a compared run needs its per-image scores")
    if "scene" not in table.columns or table["scene"].isna().any():
        raise InputError(
            f"{where}: no scene for every image (column 'scene'); re-run the evaluation with "
            "this version, which records each test image's scene"
        )
    count = run["summary"].get("count")
    if count != len(table):
        raise InputError(
            f"{where}: {len(table)} rows but its summary.json counted {count} images; every "
            "image of the test set must appear exactly once"
        )


def _check_same_summary(run: dict[str, Any], reference: dict[str, Any]) -> None:
    ours, theirs = run["summary"], reference["summary"]
    for key in TEST_KEYS:
        if ours.get(key) != theirs.get(key):
            raise InputError(
                f"{run['path']}: {key} {ours.get(key)!r} differs from the task's test set "
                f"({reference['path']}: {theirs.get(key)!r}); a report compares runs of one "
                "test only: re-run this cell or remove the folder"
            )


def _check_same_images(run: dict[str, Any], reference: dict[str, Any]) -> None:
    names, expected = set(run["per_image"].index), set(reference["per_image"].index)
    if names != expected:
        lacking, extra = sorted(expected - names), sorted(names - expected)
        raise InputError(
            f"{run['path'].parent / 'per_image.csv'}: images differ from the task's test set "
            f"({reference['path'].parent / 'per_image.csv'}): missing {lacking[:5]}, "
            f"extra {extra[:5]}"
        )
    scenes = run["per_image"]["scene"].astype(str)
    if not scenes.equals(reference["per_image"]["scene"].astype(str).reindex(scenes.index)):
        raise InputError(
            f"{run['path'].parent / 'per_image.csv'}: scenes differ from those of "
            f"{reference['path'].parent / 'per_image.csv'} for the same images"
        )
