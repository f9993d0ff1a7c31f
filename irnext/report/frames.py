"""The report's tables as pandas frames built from the result records.

Numbers are aggregated in long frames (one row per model and seed, or per model, seed and
image) with `groupby`, then formatted into display frames of strings (`tables.frame`), from
which both the Markdown and the LaTeX are rendered.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from irnext.report import compare, stats
from irnext.report.frames_cost import flag_reason
from irnext.report.tables import PLUS_MINUS, cell, frame

RESOLVED = "*"
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


def with_std(mean: float, std: float, digits: int) -> str:
    """'25.31 ± 0.12' over seeds; the plain mean for one seed."""
    if pd.isna(mean):
        return "-"
    text = f"{mean:.{digits}f}"
    return text if pd.isna(std) else f"{text} {PLUS_MINUS} {std:.{digits}f}"


def comparison_text(value: stats.Comparison | str | None) -> str:
    """'+1.23 [+0.80, +1.70] *': the mean difference with its Holm-level interval, `*` when
    resolved (the Holm-adjusted p-value below alpha and the interval excluding zero)."""
    if value is None:
        return "-"
    if isinstance(value, str):
        return value
    i = value.interval
    text = f"{i.mean:+.2f} [{i.low:+.2f}, {i.high:+.2f}]"
    return f"{text} {RESOLVED}" if value.resolved else text


def improvement_text(value: stats.Comparison | str | None) -> str:
    return f"{value.p_improvement:.2f}" if isinstance(value, stats.Comparison) else "-"


def own_interval(scores: compare.Scores, model: str) -> str:
    if model not in scores.runs:
        return "-"
    interval = scores.own_interval(model)
    return interval if isinstance(interval, str) else f"[{interval.low:.2f}, {interval.high:.2f}]"


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
    task: str,
    entries: Sequence[dict[str, Any]],
    cost: Mapping[str, dict[str, Any]],
    latency: Mapping[str, dict[str, Any]],
    published: Mapping[str, str],
    budgets: Mapping[str, Any] | None = None,
    plateaus: Mapping[str, str] | None = None,
) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """One task's comparison table (each model against the task's IRNeXt and the identity, each
    family Holm-corrected) and its comparisons as CSV rows (`compare.CSV_COLUMNS`)."""
    runs = evaluation_runs(entries)
    scores = seed_scores(runs)
    images = compare.evaluation_scores(entries)
    models = list(scores.index)
    irnext = next((m for m in models if m.startswith("irnext")), None)
    identity = "identity" if "identity" in models else None
    trained = [m for m in models if m != identity]
    vs_irnext = compare.family(images, irnext, trained) if irnext else {}
    vs_identity = compare.family(images, identity, trained) if identity else {}
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
                comparison_text(vs_irnext.get(model)),
                improvement_text(vs_irnext.get(model)),
                comparison_text(vs_identity.get(model)),
                published.get(model, "-"),
            ]
        )
    name = irnext or "IRNeXt"
    header = [*QUALITY_HEADER, f"vs {name} (dB)", f"P(better than {name})", *QUALITY_TAIL]
    kinds = {"budgets": budgets, "plateaus": plateaus}
    csv = compare.csv_rows(task, irnext, vs_irnext, **kinds) if irnext else []
    if identity:
        csv += compare.csv_rows(task, identity, vs_identity, **kinds)
    return frame(header, rows), csv


def _psnr_text(scores: pd.Series, runs: Sequence[dict[str, Any]], model: str) -> str:
    """A null mean with identical pairs in the set is +inf (JSON has no infinity)."""
    if pd.isna(scores.psnr):
        infinite = [r.get("psnr_infinite") for r in runs if r["model"] == model]
        if any(infinite):
            return f"inf ({max(infinite)} identical)"
    return with_std(scores.psnr, scores.psnr_std, 2)


def ssim_disagreements(scores: pd.DataFrame, references: Sequence[str]) -> list[str]:
    """Where SSIM and PSNR (seed means of `seed_scores`) order a model and a reference the
    other way round: one sentence each."""
    notes = []
    for reference in (r for r in references if r in scores.index):
        ref = scores.loc[reference]
        for model, s in scores.iterrows():
            if model in references or pd.isna(s.psnr) or pd.isna(s.ssim):
                continue
            psnr, ssim = s.psnr - ref.psnr, s.ssim - ref.ssim
            if psnr * ssim < 0:
                notes.append(
                    f"`{model}` is {'above' if psnr > 0 else 'below'} `{reference}` in PSNR "
                    f"({psnr:+.2f} dB) but {'above' if ssim > 0 else 'below'} it in SSIM "
                    f"({ssim:+.4f})"
                )
    return notes


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
                    "scenes": s.get("scene_per_image"),
                }
            )
    return runs


def ablation_scores(study: dict[str, Any]) -> compare.Scores:
    """Per-image scores of the study's variants (a run without scenes on record has none: an
    older study file, to be re-run)."""
    scores = compare.Scores()
    test_set = f"{study.get('dataset')}/{study.get('test_split', 'test')}"
    for run in ablation_runs(study):
        per_image, scenes = run["per_image"], run["scenes"]
        if per_image and scenes:
            values = {(test_set, name): value for name, value in per_image.items()}
            keys = {(test_set, name): scenes[name] for name in per_image}
            scores.add(run["variant"], run["seed"], values, keys)
    return scores


def ablation_frame(study: dict[str, Any]) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """Each variant with its difference to the first (reference) row over seeds and scenes,
    the study's comparisons Holm-corrected together; and those comparisons as CSV rows."""
    runs = ablation_runs(study)
    scores = seed_scores(runs, key="variant")
    names = [v["variant"] for v in study["variants"]]
    reference = names[0]
    found = compare.family(ablation_scores(study), reference, names)
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
                comparison_text(found.get(v["variant"])),
                improvement_text(found.get(v["variant"])),
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
        f"vs {reference} (dB, Holm-level CI)",
        f"P(better than {reference})",
        "SSIM",
    ]
    return frame(header, rows), compare.csv_rows(f"ablation {study['study']}", reference, found)


def evaluation_runs(evaluations: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The records `quality_frame` aggregates, from `load.evaluations` entries."""
    runs = []
    for e in evaluations:
        means = e["summary"]["means"]
        runs.append(
            {
                "model": e["model"],
                "seed": e["seed"],
                "psnr": means.get("psnr_db"),
                "ssim": means.get("ssim"),
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
