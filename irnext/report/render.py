"""The pipeline report: `results/report.md`, its figures and LaTeX tables, from result files only.

Reads (each part optional; a missing part is said to be missing, never invented):
    results/synth/<task>.png                       contact sheets of the synthetic benchmark
    results/train/<task>/<model>-s<seed>.json      training histories (+ .run.json timings)
    results/convergence/<task>/<model>-s<seed>.json validation curves and training compute
    results/evaluate/<task>/<model>[-s<seed>]/     summary.json, per_image.csv, run.json
    results/aggregates/*.json                      Rain13K average, DPDD groups
    results/pretrained/<release>/<dataset>[-uniform]/  official weights (published vs reproduced)
    results/cost/complexity.json, latency/*.json, scaling/scaling.json
    results/ablations/<study>.json                 ablation studies over seeds
    results/visual/<task>/                         one test image restored by every model
    benchmarks/published/{quality,cost}.yaml       published figures with their sources
Writes the report, results/figures/*.png beside it and results/tables/*.tex.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from irnext.io import atomic_write_text, read_yaml_mapping
from irnext.pipeline import layout
from irnext.pipeline.layout import cell_stem
from irnext.report import (
    budget,
    compare,
    convergence,
    convergence_section,
    figures,
    frames,
    sections,
    stats,
)
from irnext.report.cells import Profile
from irnext.report.frames_cost import published_for_task
from irnext.report.load import collect
from irnext.report.published import section as published_vs_reproduced
from irnext.report.tables import TableWriter
from irnext.report.visual import visual_grid

__all__ = ["collect", "render_report"]


def render_report(
    results: str | Path,
    out: str | Path,
    *,
    published: str | Path | None = None,
    profile: Profile | None = None,
) -> Path:
    """Write the Markdown report `out` (figures and tables beside it); returns its path.

    With `profile`, exactly its cells are read (`irnext.report.cells`); without, every result
    found (for reports of ad-hoc evaluations)."""
    results, out = Path(results), Path(out)
    data = collect(results, profile)
    data["published"] = _published(Path(published) if published else None)
    data["convergence"] = convergence.read_records(results, _cells(profile))
    verdicts = convergence.model_verdicts(convergence.plateau_verdicts(data["convergence"]))
    verdicts = convergence.with_budget_study(verdicts, _budget_gains(results, verdicts))
    data["plateaus"] = {(v["task"], v["model"]): v for v in verdicts}
    tables = out.parent / "tables"
    context = sections.Context(
        base=out.parent, figures=out.parent / "figures", table=TableWriter(tables)
    )
    parts = [
        "# irnext-bench report\n\nRendered by `irnext report` from the result files of the "
        "pipeline; every number below was measured by this suite unless a source is named. "
        f"Every table is also written as booktabs LaTeX and as CSV in `{context.link(tables)}/`.",
        sections.synth(data, context),
        quality(data, context),
        sections.training(data, context),
        convergence_section.render(results, data, context),
        sections.ablations(data, context),
        sections.cost(data, context),
        sections.published(data, context),
        published_vs_reproduced(results, data["published"], context.table),
        sections.environments(data, context),
    ]
    context.table.write_rows("comparisons", compare.CSV_COLUMNS, context.rows)
    return atomic_write_text(out, "\n\n".join(p for p in parts if p) + "\n")


def _budget_gains(results: Path, verdicts: list[dict[str, Any]]) -> dict:
    """What the committed budget study says longer budgets add, at the profile's budgets."""
    study = layout.budget_table(results)
    if not study.exists():
        return {}
    steps = {}
    for v in verdicts:
        steps[v["task"]] = max(steps.get(v["task"], 0), v["steps"])
    return budget.gains(budget.read_budget(study), steps)


def _published(folder: Path | None) -> dict[str, Any]:
    path = folder / "quality.yaml" if folder else None
    if path is None or not path.is_file():
        return {}
    return read_yaml_mapping(path, expected="published scores by dataset")


QUALITY_INTRO = (
    "Per task, every model of the profile scored on the same test images under the task's "
    "protocol; only the profile's cells are read (a folder of another model or seed is listed "
    "as not read, a missing cell as missing). The unit of evidence is the scene (the source "
    "photograph of the synthetic benchmark's crops, a video's frames) and the training seed: "
    "`PSNR 95 % CI` is a two-level bootstrap "
    f"({stats.RESAMPLES:,} resamples, fixed seed) that draws seeds, scenes, and images within "
    "the drawn scenes, each with replacement. `vs ...` columns are paired differences (this row "
    "minus the named model; the same image of the same test set and the same seed). Each "
    "column is one family of comparisons, Holm-corrected within the task: its interval is at "
    "the Holm level of its step (95 % for the last step, wider before), and `*` marks a "
    "resolved difference, one whose Holm-adjusted p-value is below 0.05 and whose corrected "
    "interval excludes zero; an unmarked difference is not resolved by these runs, in either "
    "direction. `P(better than ...)` is the share of (seed, scene) cells where the row's mean "
    "over the scene's images beats the named model. A score is the mean ± standard deviation "
    "over seeds. A latency marked `flagged` was taken on a busy machine or with a wide spread "
    "and is not a result. `published` figures were measured on the named real dataset under "
    "its paper's protocol: not comparable with the synthetic benchmark's scores, given for "
    "scale only. Every table is also written as CSV (`tables/*.csv`); the comparisons' numbers "
    "(differences, bounds, p-values, counts) are in `tables/comparisons.csv`."
)


def quality(data: dict[str, Any], context: sections.Context) -> str:
    lines = ["## Restoration quality", ""]
    evaluations = data["evaluations"]
    if not evaluations and not data["aggregates"]:
        return "\n".join(lines + _not_compared(data, context) + ["(no evaluations found)"])
    lines += [QUALITY_INTRO, ""]
    lines += _not_compared(data, context)
    cost = {r["model"]: r for r in data["complexity"]}
    latency = {}
    for record in sorted(data["latency"], key=_not_256):  # a model's 256x256 timing first
        latency.setdefault(record["model"], record)
    tasks = sorted({e["task"] for e in evaluations})
    points = {}
    for task in tasks:
        runs = [e for e in evaluations if e["task"] == task]
        lines += _task(task, runs, cost, latency, data, context, points)
    if len(tasks) > 1:
        lines += [
            "### Overview",
            "",
            "PSNR (dB) of every model on every task, averaged over seeds.",
            "",
            context.table(frames.overview_frame(evaluations), "overview"),
            "",
        ]
    if len(points) > 1:
        path = figures.psnr_vs_macs_overview(points, context.figures / "psnr_vs_macs.png")
        lines += [f"![PSNR against MACs]({context.link(path)})", ""]
    lines += sections.configurations(data, {e["model"] for e in evaluations})
    lines += sections.aggregates(data, context)
    return "\n".join(lines)


def _not_256(record: dict[str, Any]) -> bool:
    return list(record.get("input_shape") or [])[-2:] != [256, 256]


def _not_compared(data: dict[str, Any], context: sections.Context) -> list[str]:
    """The profile's cells without results, and result folders outside the profile."""
    lines = []
    if data["missing"]:
        cells = ", ".join(
            f"{m['task']}: {cell_stem(m['model'], m['seed'])}" for m in data["missing"]
        )
        lines += [
            f"**Missing cells** (in the profile, no result; a model's row rests on its other "
            f"seeds): {cells}.",
            "",
        ]
    if data["ignored"]:
        folders = ", ".join(f"`{context.link(p)}`" for p in data["ignored"])
        lines += [f"Not read (not in the profile, left from an earlier run): {folders}.", ""]
    return lines


def _budgets(data: dict[str, Any], task: str) -> dict[str, int]:
    """Training steps of each model of `task` (the largest over its seeds)."""
    budgets: dict[str, int] = {}
    for h in data["histories"]:
        if h["task"] == task:
            steps = sum(int(e.get("steps") or 0) for e in h["history"].get("epochs") or [])
            budgets[h["model"]] = max(budgets.get(h["model"], 0), steps)
    return budgets


def _cells(profile: Profile | None) -> set[tuple[str, str, int]] | None:
    """The (task, model, seed) cells of `profile`; None (every record) without one."""
    if profile is None:
        return None
    return {(t, m, s) for t in profile.tasks for m in profile.models[t] for s in profile.seeds}


def _plateau(verdict: dict[str, Any]) -> str:
    """A model's plateau verdict with the gain it rests on (irnext.report.convergence)."""
    gain = verdict["gain_db"]
    over = f"{gain:+.2f} dB over the last quarter of " if gain is not None else "at "
    study = ""
    if "budget_gain_db" in verdict:  # the verdict rests on the budget study (with_budget_study)
        study = f"; budget study: {verdict['budget_gain_db']:+.2f} dB at "
        study += f"{verdict['budget_steps']} steps"
    return f"{verdict['verdict']} ({over}{verdict['steps']} steps{study})"


def _still_improving(plateaus: dict[tuple[str, str], dict[str, Any]], task: str) -> list[str]:
    """The task's note on models whose validation curves had not plateaued (none: nothing)."""
    moving = {m: v for (name, m), v in plateaus.items() if name == task}
    moving = {m: v for m, v in moving.items() if v["verdict"] == "improving"}
    if not moving:
        return []
    steps = max(v["steps"] for v in moving.values())
    names = ", ".join(f"`{m}`" for m in sorted(moving))
    studied = any("budget_gain_db" in v for v in moving.values())
    why = "validation PSNR still rising at the end of the budget"
    why += ", or rising further at a longer budget in the budget study" if studied else ""
    return [
        f"**At {steps} steps, still improving**: {names} ({why}; section Convergence). "
        "Comparisons involving them rank the models at this budget, not the architectures.",
        "",
    ]


def _task(task, runs, cost, latency, data, context, points) -> list[str]:
    records = frames.evaluation_runs(runs)
    published = published_for_task(data["published"], task)
    reference = next((r for r in runs if r["model"] == "identity"), runs[0])
    first, table = reference["summary"], reference["per_image"]
    slug = task.replace(" / ", "-").replace(" ", "_")
    trained = task.split(" / ")[0]  # a task of several test sets: "derain / test100"
    plateaus = {m: _plateau(v) for (name, m), v in data["plateaus"].items() if name == trained}
    quality, rows = frames.quality_frame(
        task, runs, cost, latency, published, _budgets(data, trained), plateaus
    )
    context.rows.extend(rows)
    seeds = max(
        len({r["seed"] for r in runs if r["model"] == m}) for m in {r["model"] for r in runs}
    )
    known = table is not None and "scene" in table
    scenes = f"of {table['scene'].nunique()} scenes" if known else "(scenes not recorded)"
    lines = [
        f"### {task}",
        "",
        f"`{first.get('dataset')}` ({first.get('split')}), protocol `{first.get('protocol')}`: "
        f"{first.get('count')} images {scenes}, {seeds} seed(s) per trained model.",
        "",
        context.table(quality, f"quality_{slug}"),
        "",
        *_still_improving(data["plateaus"], trained),
    ]
    lines += _ssim_notes(records)
    groups = frames.group_frame(runs)
    if groups is not None:
        lines += [
            "PSNR (dB) by image group: the mean over the group's images, averaged over seeds.",
            "",
            context.table(groups, f"groups_{slug}"),
            "",
        ]
    task_points = _points(records, cost)
    if any(p["gmacs"] is not None for p in task_points):
        points[task] = task_points
        path = figures.psnr_vs_macs(task_points, task, context.figure(f"psnr_vs_macs_{slug}.png"))
        lines += [f"![PSNR against MACs, {task}]({context.link(path)})", ""]
    spec = data["visuals"].get(task)
    if not spec:
        return [*lines, "(no visual comparison found for this task)", ""]
    return lines + _visuals(spec, task, slug, runs, context)


def _visuals(spec, task, slug, runs, context) -> list[str]:
    """One grid per shown test image. A visual.json with `images` lists several (those the
    models differ most on, each cropped where their outputs differ most); an older one holds
    a single image cropped where the input's error is largest."""
    shown = spec.get("images") or [{"image": spec.get("image"), "crop": spec.get("crop")}]
    several = "images" in spec
    lines = [
        f"Test images the models' PSNR differs most on, restored by each model (seed "
        f"{spec.get('seed', 0)}); the crop is the window where the models' outputs differ most."
        if several
        else f"Test image `{spec.get('image', '?')}`, restored by each model (seed 0); the crop "
        "is the window where the input's error is largest.",
        "",
    ]
    for number, entry in enumerate(shown):
        one = {**spec, **entry}
        name = f"visual_{slug}" + (f"_{number}" if several else "")
        path = visual_grid(one, task, context.figures / f"{name}.png", _visual_scores(one, runs))
        lines += [f"![visual comparison, {task}, {entry.get('image')}]({context.link(path)})", ""]
    return lines


def _ssim_notes(records: list[dict[str, Any]]) -> list[str]:
    """Say where SSIM tells another story than PSNR (e.g. a model that raises PSNR over the
    unrestored input but lowers its SSIM: it removes the degradation's energy, not its
    structure)."""
    scores = frames.seed_scores(records)
    irnext = [m for m in scores.index if m.startswith("irnext")][:1]
    notes = frames.ssim_disagreements(scores, ["identity", *irnext])
    if not notes:
        return ["SSIM orders every model as PSNR does against the input and IRNeXt.", ""]
    return [
        "SSIM disagrees with PSNR: " + "; ".join(notes) + ". A PSNR gain with an SSIM loss "
        "means the model lowers the error's energy while losing local structure (contrast, "
        "edges); such a model is not better in every sense the two metrics measure.",
        "",
    ]


def _points(records: list[dict[str, Any]], cost: dict[str, dict[str, Any]]) -> list[dict]:
    """Bubbles of the PSNR-against-MACs figure: models with a complexity record, the identity."""
    return [
        {
            "model": model,
            "psnr": s.psnr,
            "std": None if s.psnr_std != s.psnr_std else s.psnr_std,  # NaN: one seed
            "gmacs": (cost.get(model) or {}).get("gmacs_torch"),
            "params": (cost.get(model) or {}).get("params") or 0,
        }
        for model, s in frames.seed_scores(records).iterrows()
        if s.psnr == s.psnr and (model == "identity" or model in cost)
    ]


def _visual_scores(spec: dict[str, Any], runs: list[dict[str, Any]]) -> dict[str, float]:
    """Per panel, the PSNR of the shown image (the identity's is the input's)."""
    found: dict[str, float] = {}
    name = spec.get("image")
    for run in sorted(runs, key=lambda r: -1 if r["seed"] is None else r["seed"]):
        table = run["per_image"]
        if name is None or table is None or name not in table.index or "psnr_db" not in table:
            continue
        panel = "input" if run["model"] == "identity" else run["model"]
        found.setdefault(panel, float(table.loc[name, "psnr_db"]))
    return found
