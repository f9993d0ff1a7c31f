"""Sections of the report other than the per-task comparison (render.py)."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from irnext.names import check_under
from irnext.report import figures, frames, frames_cost
from irnext.report.tables import TableWriter, frame


@dataclass(frozen=True)
class Context:
    """Where the report lies (`base`), where its figures go, the table renderer, and the
    comparisons' CSV rows gathered while rendering (`irnext.report.compare.CSV_COLUMNS`)."""

    base: Path
    figures: Path
    table: TableWriter
    rows: list[dict[str, Any]] = field(default_factory=list)

    def figure(self, name: str) -> Path:
        """FIGURES/name, checked to stay in that folder: names come from result files."""
        return check_under(self.figures / name, self.figures, what="figure")

    def link(self, path: Path) -> str:
        """`path` relative to the report's folder, wherever the two lie."""
        return Path(os.path.relpath(path.resolve(), self.base.resolve())).as_posix()


def synth(data: dict[str, Any], context: Context) -> str:
    sheets = data["contact_sheets"]
    if not sheets:
        return "## Synthetic benchmark\n\n(no contact sheets found)"
    lines = [
        "## Synthetic benchmark",
        "",
        "Clean photographs shipped in installed packages, degraded by physical models "
        "(`results/synth/README.md`). Top row clean, bottom row degraded.",
    ]
    lines += [f"\n**{p.stem}**\n\n![{p.stem}]({context.link(p)})" for p in sheets]
    return "\n".join(lines)


def configurations(data: dict[str, Any], models: Iterable[str]) -> list[str]:
    """Each compared model's own statement of where its configuration comes from."""
    notes = []
    for r in data["complexity"]:
        if r["model"] in models and (r.get("assumption") or r.get("source")):
            words = "; ".join(str(r[k]) for k in ("source", "assumption") if r.get(k))
            notes.append(f"- `{r['model']}`: {words}")
    if not notes:
        return []
    return [
        "### Configurations",
        "",
        "Where a compared model's configuration comes from, as its model entry states it. "
        "Miniature configurations (names ending in `-mini`) are this suite's own, chosen for "
        "equal compute, not the papers'; their scores compare architectures at one small "
        "budget and say nothing of the published models.",
        "",
        *notes,
        "",
    ]


def aggregates(data: dict[str, Any], context: Context) -> list[str]:
    lines = []
    titles = {"dpdd": "DPDD indoor / outdoor / combined", "rain13k_average": "Rain13K average"}
    for a in data["aggregates"]:
        partial = " (a split is smaller than published)" if a.get("complete") is False else ""
        lines += [
            f"### {titles.get(a['aggregate'], a['aggregate'])}: {a['model']}",
            "",
            f"Protocol `{a['protocol']}`{partial}.",
            "",
            context.table(
                frames_cost.aggregate_frame(a), f"aggregate_{a['aggregate']}_{a['model']}"
            ),
            "",
        ]
    return lines


def training(data: dict[str, Any], context: Context) -> str:
    histories = data["histories"]
    if not histories:
        return "## Training\n\n(no training histories found)"
    path = figures.training_curves(histories, context.figures / "training_curves.png")
    rows = []
    for h in histories:
        history = h["history"]
        steps = sum(int(e.get("steps") or 0) for e in history.get("epochs") or [])
        rows.append([h["task"], h["model"], h["seed"], history.get("dataset"), steps,
                     _label(history) + _recipe(history.get("config") or {})])  # fmt: skip
    table = frame(["task", "model", "seed", "dataset", "steps", "recipe"], rows)
    return "\n".join(
        [
            "## Training",
            "",
            "Every model of a task is trained with the same recipe and step budget. Scores of "
            "such a budget compare the architectures at that budget; the paper's claims need "
            "its recipes (`irnext train --recipe`, `irnext.training.RECIPES`) on the real "
            "datasets. The figure plots each run's training loss divided by its first epoch's: "
            "IRNeXt's loss sums three output scales and a single-output baseline's has one, so "
            "their absolute values are not comparable; the validation PSNR (dashed, where "
            "recorded) is.",
            "",
            context.table(table, "training"),
            "",
            f"![training curves]({context.link(path)})",
        ]
    )


def _label(history: dict[str, Any]) -> str:
    """`NAME (own|shared): ` where the run was trained under a paper-profile recipe mode."""
    mode = history.get("recipe_mode")
    return f"{history.get('recipe')} ({mode} recipe): " if mode else ""


def _recipe(config: dict[str, Any]) -> str:
    keys = ("epochs", "batch_size", "patch_size", "lr", "fft_weight", "grad_clip")
    return ", ".join(f"{k}={config[k]}" for k in keys if k in config)


def ablations(data: dict[str, Any], context: Context) -> str:
    if not data["ablations"]:
        return "## Ablations\n\n(no ablation studies found)"
    lines = [
        "## Ablations",
        "",
        "Each row's difference to the first (reference) row is paired image by image and seed "
        "by seed, with its two-level bootstrap interval over seeds and scenes. The family is "
        "the study's variants against its reference, Holm-corrected together: the interval is "
        "at the Holm level of its step and `*` marks a resolved difference (Holm-adjusted "
        "p < 0.05, corrected interval excluding zero).",
        "",
    ]
    for study in data["ablations"]:
        lines += _study(study, context)
    return "\n".join(lines)


def _study(study: dict[str, Any], context: Context) -> list[str]:
    runs = frames.ablation_runs(study)
    scores = frames.seed_scores(runs, key="variant")
    bars = [
        {
            "variant": v["variant"],
            "psnr": scores.loc[v["variant"]].psnr,
            "std": _finite(scores.loc[v["variant"]].psnr_std),
            "params": v["params"],
        }
        for v in study["variants"]
    ]
    xlabel = f"PSNR (dB), {study.get('protocol')} on {study.get('dataset')}"
    path = figures.ablation_points(
        bars, study["title"], xlabel, context.figure(f"ablation_{study['study']}.png")
    )
    seeds = study.get("seeds") or sorted({r["seed"] for r in runs if r["seed"] is not None})
    table, rows = frames.ablation_frame(study)
    context.rows.extend(rows)
    return [
        f"### {study['title']}",
        "",
        study.get("question", ""),
        "",
        f"Base model `{study.get('base_model')}`, trained on {study.get('dataset')} with "
        f"{_recipe(study.get('train_config') or {})}, seeds {seeds}; scored under "
        f"`{study.get('protocol')}`{_rests_on(study)}. Mirrors: {study.get('reference') or '-'}.",
        "",
        context.table(table, f"ablation_{study['study']}"),
        "",
        f"![{study['study']}]({context.link(path)})",
        "",
    ]


def _rests_on(study: dict[str, Any]) -> str:
    """', on N images of S scenes' of the study's reference variant (nothing if unrecorded)."""
    scores = frames.ablation_scores(study)
    reference = study["variants"][0]["variant"]
    if reference not in scores.runs:
        return " (scenes not recorded: no comparison)"
    counts = scores.counts(reference)
    return f", on {counts['images']} test images of {counts['scenes']} scenes"


def _finite(value: float) -> float | None:
    return None if value != value else float(value)


def cost(data: dict[str, Any], context: Context) -> str:
    records = data["complexity"]
    if not records:
        lines = ["## Cost", "", "(no complexity records found)"]
    else:
        lines = _complexity(records, context)
    if data["latency"]:
        lines += [
            "",
            "### Latency",
            "",
            "Median of interleaved repeats with its spread and the machine's load; a timing "
            "flagged as busy (load or spread) is shown with its reason instead of a value.",
            "",
            context.table(frames_cost.latency_frame(data["latency"]), "latency"),
        ]
    else:
        lines += ["", "(no latency records found)"]
    if data["scaling"]:
        path = figures.scaling(data["scaling"], context.figures / "scaling.png")
        lines += ["", "### Scaling with resolution", "", f"![scaling]({context.link(path)})"]
    else:
        lines += ["", "(no scaling records found)"]
    return "\n".join(lines)


def _complexity(records: list[dict[str, Any]], context: Context) -> list[str]:
    path = figures.complexity_bars(records, context.figures / "complexity.png")
    size = "x".join(str(s) for s in records[0].get("input_shape") or [])
    lines = [
        "## Cost",
        "",
        f"Parameters and multiply-accumulates at {size} from three counters sharing one "
        "convention (`irnext.cost.conventions`); `paper` is the published figure and the "
        "counter that produced it (`benchmarks/published/cost.yaml`).",
        "",
        context.table(frames_cost.complexity_frame(records), "complexity"),
        "",
        f"![complexity]({context.link(path)})",
    ]
    inferred = [(r["model"], r["assumption"]) for r in records if r.get("assumption")]
    if inferred:
        lines += [
            "",
            "Configurations not published by the authors (`assumed`), as each model entry states:",
            "",
        ]
        lines += [f"- `{model}`: {assumption}" for model, assumption in inferred]
    gaps = [(r["model"], (r.get("reported") or {}).get("gap")) for r in records]
    if any(gap for _, gap in gaps):
        lines += ["", "Gaps to the papers' figures:", ""]
        lines += [f"- `{model}`: {gap}" for model, gap in gaps if gap]
    return lines


def published(data: dict[str, Any], context: Context) -> str:
    entries = data["published"]
    if not entries:
        return ""
    lines = ["## Published figures (each under its own paper's protocol)", ""]
    for name, entry in entries.items():
        if isinstance(entry, dict) and "results" in entry:
            lines += [
                f"**{name}** (`{entry.get('protocol', '?')}`)",
                "",
                context.table(frames_cost.published_frame(entry), f"published_{name}"),
                "",
            ]
    return "\n".join(lines)


def environments(data: dict[str, Any], context: Context) -> str:
    stamps = list(_stamps(data))
    table = frames_cost.environment_frame(stamps)
    if table is None:
        return "## Environments\n\n(no environment stamps found)"
    return (
        "## Environments\n\nOne row per distinct environment that produced a result file, "
        "with the kinds of files it made.\n\n" + context.table(table, "environments")
    )


def _stamps(data: dict[str, Any]) -> Iterable[tuple[str, dict[str, Any]]]:
    for e in data["evaluations"]:
        yield from _stamp("evaluate", e["run"], e["summary"])
    for h in data["histories"]:
        yield from _stamp("train", h["run"], h["history"])
    for r in data["latency"]:
        yield from _stamp("latency", r)
    for r in data["complexity"]:
        yield from _stamp("complexity", data["complexity_run"], r)
    for s in data["ablations"]:
        yield from _stamp("ablate", s["_run"], s)


def _stamp(kind: str, *records: Any) -> Iterable[tuple[str, dict[str, Any]]]:
    """The first record's environment (a run.json holds it under `environment`)."""
    for record in records:
        if isinstance(record, dict):
            env = record.get("environment")
            if isinstance(env, dict):
                yield kind, env
                return
