"""The report's tables as pandas frames built from the result records.

Numbers are aggregated in long frames (one row per model and seed, or per model, seed and
image) with `groupby`, then formatted into display frames of strings (`tables.frame`), from
which both the Markdown and the LaTeX are rendered.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from irnext.report import stats
from irnext.report.frames_cost import flag_reason
from irnext.report.tables import PLUS_MINUS, cell, frame

SIGNIFICANT = "*"
QUALITY_HEADER = (
    "model",
    "params",
    "GMACs",
    "latency",
    "seeds",
    "PSNR (dB)",
    "PSNR 95 % CI",
    "SSIM",
)
QUALITY_TAIL = ("vs identity (dB)", "published (dataset, protocol; source)")


def seed_scores(runs: Sequence[dict[str, Any]], key: str = "model") -> pd.DataFrame:
    """Per `key`: mean and std (ddof=1) over seeds of the per-seed mean PSNR and SSIM."""
    rows = [{key: r[key], "seed": r["seed"], "psnr": r["psnr"], "ssim": r["ssim"]} for r in runs]
    long = pd.DataFrame(rows, columns=[key, "seed", "psnr", "ssim"])
    for column in ("psnr", "ssim"):
        long[column] = pd.to_numeric(long[column], errors="coerce")  # None -> NaN
    grouped = long.groupby(key, sort=False)
    return grouped.agg(
        psnr=("psnr", "mean"),
        psnr_std=("psnr", "std"),  # pandas' std is the sample one (ddof=1), NaN for one seed
        ssim=("ssim", "mean"),
        ssim_std=("ssim", "std"),
        seeds=("seed", "size"),
    )


def seed_mean_images(runs: Sequence[dict[str, Any]], key: str = "model") -> dict[str, dict]:
    """Per `key`, per image: the PSNR averaged over that key's seeds (`stats` docstring)."""
    rows = [
        {key: r[key], "seed": -1 if r["seed"] is None else r["seed"], "name": name, "psnr": value}
        for r in runs
        for name, value in (r.get("per_image") or {}).items()
    ]
    if not rows:
        return {}
    long = pd.DataFrame(rows)
    # Only images every seed of the key scored: a partial seed must not tilt the mean.
    counts = long.groupby([key, "name"])["seed"].transform("size")
    seeds = long.groupby(key)["seed"].transform("nunique")
    long = long[counts == seeds]
    means = long.groupby([key, "name"], sort=False)["psnr"].mean()
    return {k: means.loc[k].to_dict() for k in means.index.get_level_values(0).unique()}


def with_std(mean: float, std: float, digits: int) -> str:
    """'25.31 ± 0.12' over seeds; the plain mean for one seed."""
    if pd.isna(mean):
        return "-"
    text = f"{mean:.{digits}f}"
    return text if pd.isna(std) else f"{text} {PLUS_MINUS} {std:.{digits}f}"


def interval_text(interval: stats.Interval | None, signed: bool = False) -> str:
    if interval is None:
        return "-"
    form = "+.2f" if signed else ".2f"
    text = f"{interval.mean:{form}} [{interval.low:{form}}, {interval.high:{form}}]"
    return f"{text} {SIGNIFICANT}" if signed and interval.significant else text


def difference(
    images: Mapping[str, Mapping[str, float]], ours: str, theirs: str | None
) -> stats.Interval | str | None:
    """Paired bootstrap interval of ours - theirs, or why there is none."""
    if theirs is None or ours == theirs:
        return None
    if ours not in images or theirs not in images:
        return "no per-image scores"
    try:
        return stats.paired_difference(images[ours], images[theirs])
    except ValueError as error:
        return f"n/a ({error})"


def difference_text(value: stats.Interval | str | None) -> str:
    return value if isinstance(value, str) else interval_text(value, signed=True)


def own_interval(images: Mapping[str, Mapping[str, float]], model: str) -> str:
    if model not in images:
        return "-"
    try:
        interval = stats.bootstrap_mean(list(images[model].values()))
    except ValueError:
        return "not finite"
    return f"[{interval.low:.2f}, {interval.high:.2f}]"


def latency_text(record: dict[str, Any] | None) -> str:
    """The median with its device; a flagged timing is shown as flagged, not as a result."""
    if record is None:
        return "-"
    if record.get("flagged"):
        return f"flagged ({flag_reason(record)})"
    env = record.get("environment") or {}
    device = record.get("device") or env.get("device", "?")
    threads = record.get("threads", env.get("torch_num_threads"))
    # CPU latency moves with the thread count more than with anything else: say it.
    where = f"{device}, {threads} threads" if device == "cpu" and threads else device
    return f"{record['latency_ms_median']:.1f} ms ({where})"


def quality_frame(
    runs: Sequence[dict[str, Any]],
    cost: Mapping[str, dict[str, Any]],
    latency: Mapping[str, dict[str, Any]],
    published: Mapping[str, str],
) -> pd.DataFrame:
    """One task's comparison table: each model against the task's IRNeXt and the identity."""
    scores = seed_scores(runs)
    images = seed_mean_images(runs)
    models = list(scores.index)
    irnext = next((m for m in models if m.startswith("irnext")), None)
    identity = "identity" if "identity" in models else None
    rows = []
    for model, s in scores.iterrows():
        record = cost.get(model) or {}
        rows.append(
            [
                model,
                cell(record.get("params")),
                cell(record.get("gmacs_torch")),
                latency_text(latency.get(model)),
                str(int(s.seeds)),
                _psnr_text(s, runs, model),
                own_interval(images, model),
                with_std(s.ssim, s.ssim_std, 4),
                difference_text(difference(images, model, irnext)),
                difference_text(difference(images, model, identity)),
                published.get(model, "-"),
            ]
        )
    return frame([*QUALITY_HEADER, f"vs {irnext or 'IRNeXt'} (dB)", *QUALITY_TAIL], rows)


def _psnr_text(scores: pd.Series, runs: Sequence[dict[str, Any]], model: str) -> str:
    """A null mean with identical pairs in the set is +inf (JSON has no infinity)."""
    if pd.isna(scores.psnr):
        infinite = [r.get("psnr_infinite") for r in runs if r["model"] == model]
        if any(infinite):
            return f"inf ({max(infinite)} identical)"
    return with_std(scores.psnr, scores.psnr_std, 2)


def ablation_runs(study: dict[str, Any]) -> list[dict[str, Any]]:
    """One record per variant and seed; an older single-seed study counts as its own seed."""
    runs = []
    fallback = (study.get("train_config") or {}).get("seed")
    for v in study["variants"]:
        per_seed = v.get("per_seed") or [{**v, "seed": fallback}]
        for s in per_seed:
            runs.append(
                {
                    "variant": v["variant"],
                    "seed": s.get("seed"),
                    "psnr": s.get("psnr_db"),
                    "ssim": s.get("ssim"),
                    "per_image": s.get("psnr_db_per_image"),
                }
            )
    return runs


def ablation_frame(study: dict[str, Any]) -> pd.DataFrame:
    """Each variant with its difference to the first (reference) row, pooled over seeds."""
    runs = ablation_runs(study)
    scores = seed_scores(runs, key="variant")
    images = seed_mean_images(runs, key="variant")
    reference = study["variants"][0]["variant"]
    rows = []
    for v in study["variants"]:
        s = scores.loc[v["variant"]]
        overrides = {**(v.get("model_kwargs") or {}), **(v.get("train_overrides") or {})}
        rows.append(
            [
                v["variant"],
                ", ".join(f"{k}={val}" for k, val in overrides.items()) or "(none)",
                cell(v["params"]),
                cell(v.get("gmacs_256")),
                str(int(s.seeds)),
                with_std(s.psnr, s.psnr_std, 2),
                difference_text(difference(images, v["variant"], reference)),
                with_std(s.ssim, s.ssim_std, 4),
            ]
        )
    header = [
        "variant",
        "overrides",
        "params",
        "GMACs @256",
        "seeds",
        "PSNR (dB)",
        f"vs {reference} (dB, 95 % CI)",
        "SSIM",
    ]
    return frame(header, rows)


def evaluation_runs(evaluations: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The records `quality_frame` aggregates, from `load.evaluations` entries."""
    runs = []
    for e in evaluations:
        per_image = e["per_image"]
        scores = None
        if per_image is not None and "psnr_db" in per_image.columns:
            scores = per_image["psnr_db"].astype(float).to_dict()
        means = e["summary"]["means"]
        runs.append(
            {
                "model": e["model"],
                "seed": e["seed"],
                "psnr": means.get("psnr_db"),
                "ssim": means.get("ssim"),
                "per_image": scores,
                "psnr_infinite": e["summary"].get("psnr_db_infinite_count"),
            }
        )
    return runs


def overview_frame(evaluations: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """Model x task: PSNR (dB) averaged over seeds, '-' where a model was not scored."""
    long = pd.DataFrame(
        [
            {"task": e["task"], "model": e["model"], "psnr": e["summary"]["means"].get("psnr_db")}
            for e in evaluations
        ]
    )
    long["psnr"] = pd.to_numeric(long["psnr"], errors="coerce")
    table = long.groupby(["model", "task"], sort=True)["psnr"].mean().unstack("task")
    rows = [[model, *(cell(v) for v in values)] for model, values in table.iterrows()]
    return frame(["model", *table.columns], rows)


def group_frame(evaluations: Sequence[dict[str, Any]]) -> pd.DataFrame | None:
    """Model x image group (DPDD scenes, ...): the mean PSNR over the group's images, averaged
    over seeds; None when no image carries a group."""
    rows = []
    for e in evaluations:
        table = e["per_image"]
        if table is None or "group" not in table.columns or "psnr_db" not in table.columns:
            continue
        for group, psnr in zip(table["group"], table["psnr_db"]):
            if isinstance(group, str) and group:
                rows.append({"model": e["model"], "seed": e["seed"], "group": group, "psnr": psnr})
    if not rows:
        return None
    long = pd.DataFrame(rows).fillna({"seed": -1})
    per_seed = long.groupby(["model", "seed", "group"])["psnr"].mean()
    table = per_seed.groupby(["model", "group"]).mean().unstack("group")
    cells = [[model, *(cell(v) for v in values)] for model, values in table.iterrows()]
    return frame(["model", *table.columns], cells)
