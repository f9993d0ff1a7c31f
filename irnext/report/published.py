"""Published vs reproduced: each published figure beside this suite's score of the same official
weights (the `pretrained` stages, results/pretrained/RELEASE/DATASET[-uniform]/).

A figure of benchmarks/published/quality.yaml takes part when its result names the `release`
that scores its weights and its block names the test sets it is over (`datasets`; several are
averaged as the block's `aggregate` says: the plain mean of the set means). One row per
protocol the weights were scored under: the release's own (where the suite computes it) and the
suite's uniform one. The difference is reproduced minus published, with the 95 % percentile
bootstrap interval of the reproduced mean shifted by the published constant. The interval
resamples scenes, then images within the drawn scenes, independently in each test set (the
two-level bootstrap of `irnext.report.stats`, scenes from per_image.csv's `scene` column,
`irnext.data.scenes`): frames of one video or renders of one clear image are not independent
samples. Each row states the scenes and images it rests on. A test set not scored leaves its
row without a number, saying which set is missing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from irnext.errors import InputError
from irnext.report import stats
from irnext.report.load import read_json, read_per_image

COLUMNS = [
    "figure", "model", "release", "published (dB)", "published under", "reproduced (dB)",
    "scored under", "difference (dB)", "95 % CI", "scenes", "images", "same protocol", "source",
]  # fmt: skip


@dataclass(frozen=True)
class Scored:
    """One test set's per-image PSNRs and the scene each image shows."""

    psnr_db: np.ndarray
    scenes: list[str]


def stratified_interval(
    sets: list[np.ndarray], scenes: list[list[str]] | None = None, *, resamples=stats.RESAMPLES
) -> tuple[float, float]:
    """(low, high) of the mean of per-set means: in each set, its scenes resampled and the
    images within each drawn scene (`stats.hierarchical_bootstrap`; without `scenes` each image
    is its own scene). Each set draws from its own generator, so the sets vary independently."""
    labels = scenes if scenes is not None else [list(range(v.size)) for v in sets]
    means = np.zeros(resamples)
    for index, (values, set_scenes) in enumerate(zip(sets, labels, strict=True)):
        draws = stats.hierarchical_bootstrap(
            values, set_scenes, resamples=resamples, seed=stats.SEED + index
        ).draws
        means += draws / len(sets)
    tail = 100 * (1 - stats.LEVEL) / 2
    low, high = np.percentile(means, [tail, 100 - tail])
    return float(low), float(high)


def _scorings(folder: Path, datasets: list[str]) -> dict[str, dict[str, Scored | None]]:
    """protocol -> {dataset: its scores} over the runs of one release's folder."""
    found: dict[str, dict[str, Scored | None]] = {}
    for dataset in datasets:
        for run in (folder / dataset, folder / f"{dataset}-uniform"):
            summary = run / "summary.json"
            if not summary.is_file():
                continue
            protocol = read_json(summary)["protocol"]
            found.setdefault(protocol, {})[dataset] = _scored(run / "per_image.csv")
    return found


def _scored(path: Path) -> Scored | None:
    frame = read_per_image(path)
    if frame is None:
        return None
    if "scene" not in frame.columns:
        raise InputError(f"{path}: no 'scene' column; re-run the evaluation (irnext evaluate)")
    values = np.asarray(frame["psnr_db"], dtype=np.float64)
    return Scored(values, [str(scene) for scene in frame["scene"]])


def _row(block: str, entry: dict, result: dict, protocol: str, sets: dict) -> list:
    published = float(result["psnr_db"])
    head = [block, result["model"], result["release"], f"{published:.2f}"]
    head.append(result.get("protocol", entry.get("protocol", "?")))
    missing = [d for d in entry["datasets"] if sets.get(d) is None]
    if missing:
        numbers = [f"missing: {', '.join(missing)}", protocol, "-", "-", "-", "-"]
    else:
        scored = [sets[d] for d in entry["datasets"]]
        arrays = [s.psnr_db for s in scored]
        reproduced = float(np.mean([a.mean() for a in arrays]))
        low, high = stratified_interval(arrays, [s.scenes for s in scored])
        numbers = [f"{reproduced:.2f}", protocol, f"{reproduced - published:+.2f}"]
        numbers.append(f"[{low - published:+.2f}, {high - published:+.2f}]")
        # Scenes are counted per test set: two sets never share one.
        numbers += [sum(len(set(s.scenes)) for s in scored), sum(a.size for a in arrays)]
    same = "yes" if protocol == head[-1] else "no"
    return head + numbers + [same, result.get("source", "?")]


def published_vs_reproduced(results: Path, published: dict[str, Any]) -> pd.DataFrame:
    """The table's rows (see the module's docstring); empty when no release was scored."""
    rows = []
    for block, entry in published.items():
        if not isinstance(entry, dict) or "datasets" not in entry:
            continue
        for result in entry.get("results", []):
            folder = results / "pretrained" / str(result.get("release"))
            if "release" not in result or not folder.is_dir():
                continue
            for protocol, sets in sorted(_scorings(folder, entry["datasets"]).items()):
                rows.append(_row(block, entry, result, protocol, sets))
    return pd.DataFrame(rows, columns=COLUMNS)


UNPUBLISHED_COLUMNS = [
    "release", "dataset", "scored under", "reproduced (dB)", "95 % CI", "scenes", "images",
]  # fmt: skip


def unpublished_scores(results: Path, published: dict[str, Any]) -> pd.DataFrame:
    """Official weights scored on a test set that no figure of `published` covers (IRNeXt's
    own releases, whose tables were not transcribed; a baseline's other test sets): their mean
    PSNR and its scene-and-image interval, so no scored run is left out of the report."""
    covered = {
        (str(result["release"]), dataset)
        for entry in published.values()
        if isinstance(entry, dict) and "datasets" in entry
        for result in entry.get("results", [])
        if "release" in result
        for dataset in entry["datasets"]
    }
    rows = []
    for run in sorted((results / "pretrained").glob("*/*/summary.json")):
        release, dataset = run.parent.parent.name, run.parent.name.removesuffix("-uniform")
        if (release, dataset) in covered:
            continue
        protocol = read_json(run)["protocol"]
        scored = _scored(run.parent / "per_image.csv")
        if scored is None:
            rows.append([release, dataset, protocol, "missing: per_image.csv", "-", "-", "-"])
            continue
        low, high = stratified_interval([scored.psnr_db], [scored.scenes])
        mean = f"{scored.psnr_db.mean():.2f}"
        count = [len(set(scored.scenes)), scored.psnr_db.size]
        rows.append([release, dataset, protocol, mean, f"[{low:.2f}, {high:.2f}]", *count])
    return pd.DataFrame(rows, columns=UNPUBLISHED_COLUMNS)


EFFECT_COLUMNS = [
    "release", "dataset", "release protocol", "uniform protocol", "metric", "release score",
    "uniform score", "difference", "95 % CI", "images",
]  # fmt: skip


def protocol_effects(results: Path) -> pd.DataFrame:
    """Per release and test set scored under two protocols (DATASET and DATASET-uniform), per
    metric: the release's protocol minus the suite's, paired image by image, with its
    bootstrap interval (PSNR often agrees; SSIM windows and pooling differ most)."""
    rows = []
    for uniform in sorted((results / "pretrained").glob("*/*-uniform")):
        own = uniform.with_name(uniform.name.removesuffix("-uniform"))
        runs = [read_json(r / "summary.json") for r in (own, uniform)]
        frames = [read_per_image(r / "per_image.csv") for r in (own, uniform)]
        for metric in ("psnr_db", "ssim"):
            own_scores, uniform_scores = (frame[metric].to_dict() for frame in frames)
            keys, diffs = stats.paired_differences({None: own_scores}, {None: uniform_scores})
            scene = frames[0]["scene"].to_dict() if "scene" in frames[0] else {k: k for k in keys}
            diff = stats.hierarchical_bootstrap(diffs, [scene[k] for k in keys]).interval()
            means = [f"{run['means'][metric]:.4f}" for run in runs]
            head = [uniform.parent.name, own.name, runs[0]["protocol"], runs[1]["protocol"]]
            ci = f"[{diff.low:+.4f}, {diff.high:+.4f}]"
            rows.append([*head, metric, *means, f"{diff.mean:+.4f}", ci, diff.count])
    return pd.DataFrame(rows, columns=EFFECT_COLUMNS)


def caveats(results: Path) -> list[str]:
    """One line per scored test set whose benchmark has a known problem (`dataset_caveat` of
    its summary.json, e.g. RESIDE OTS overlapping SOTS-outdoor)."""
    found: dict[str, str] = {}
    for run in sorted((results / "pretrained").glob("*/*/summary.json")):
        summary = read_json(run)
        if summary.get("dataset_caveat"):
            found.setdefault(str(summary.get("dataset")), str(summary["dataset_caveat"]))
    return [f"- {dataset}: {text}" for dataset, text in found.items()]


def section(results: Path, published: dict[str, Any], table) -> str:
    """The report's Markdown section ('' when no official weights were scored)."""
    frame, effects = published_vs_reproduced(results, published), protocol_effects(results)
    unpublished, notes = unpublished_scores(results, published), caveats(results)
    if frame.empty and effects.empty and unpublished.empty:
        return ""
    return "\n".join(
        [
            "## Published vs reproduced (official weights)",
            "",
            "Each published figure beside this suite's score of the same released weights, "
            "under the protocol each number was taken with. `difference` is reproduced minus "
            "published; its 95 % interval resamples the scenes of each test set and the "
            "images within the drawn scenes (`scenes`, `images`: what each row rests on). Only "
            "rows with `same protocol: yes` measure the reproduction; the others show what the "
            "protocol alone moves.",
            "",
            table(frame, "published_vs_reproduced") if not frame.empty else "(no figure)",
            "",
            "Scored without a published figure to compare with (no figure transcribed for "
            "that release and test set: IRNeXt's own tables, a baseline's other test sets): "
            "the mean and its 95 % interval over scenes and images.",
            "",
            table(unpublished, "unpublished_scores") if not unpublished.empty else "(none)",
            "",
            "What the protocol alone moves: the same restorations scored under the release's "
            "protocol and the suite's uniform one, paired image by image (release minus "
            "uniform).",
            "",
            table(effects, "protocol_effects") if not effects.empty else "(one protocol each)",
            *(["", "Known problems of these test sets:", "", *notes] if notes else []),
        ]
    )
