"""The pipeline report: `results/report.md` and its figures, rendered from result files only.

Reads (each part optional; a missing part is said to be missing, never invented):
    results/synth/<task>.png                  contact sheets of the synthetic benchmark
    results/train/<task>.json                 training histories (irnext train --history)
    results/evaluate/**/summary.json           scores (irnext evaluate), grouped by dataset/split
    results/aggregates/*.json                 Rain13K average, DPDD groups (irnext aggregate)
    results/cost/complexity.json              params and MACs (irnext complexity --all --json)
    results/ablations/<study>.json            ablation studies (irnext ablate)
    benchmarks/published/{quality,cost}.yaml  published figures with their sources
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import yaml

from irnext.report import figures, tables

ENVIRONMENT_KEYS = ("device_name", "torch", "cuda", "torch_num_threads", "git_commit")


def _read_json(path: Path) -> Any:
    return json.loads(path.read_text())


def collect(results: Path) -> dict[str, Any]:
    """Every result file under `results`, grouped by kind."""
    evaluations: dict[str, list[dict[str, Any]]] = {}
    # Any depth: the pipeline writes evaluate/TASK/MODEL/, `irnext evaluate` alone
    # evaluate/MODEL-DATASET-SPLIT/; summaries are grouped by what they scored.
    for path in sorted(results.glob("evaluate/**/summary.json")):
        summary = _read_json(path)
        key = f"{summary.get('dataset')} / {summary.get('split')}"
        evaluations.setdefault(key, []).append(summary)
    complexity = results / "cost" / "complexity.json"
    return {
        "contact_sheets": sorted(results.glob("synth/*.png")),
        "histories": {p.stem: _read_json(p) for p in sorted(results.glob("train/*.json"))},
        "evaluations": evaluations,
        "aggregates": [_read_json(p) for p in sorted(results.glob("aggregates/*.json"))],
        "complexity": _read_json(complexity) if complexity.is_file() else None,
        "ablations": [_read_json(p) for p in sorted(results.glob("ablations/*.json"))],
    }


def render_report(
    results: str | Path, out: str | Path, *, published: str | Path | None = None
) -> Path:
    """Write the Markdown report `out` (figures beside it in `figures/`); returns its path."""
    results, out = Path(results), Path(out)
    data = collect(results)
    figure_dir = out.parent / "figures"
    sections = [
        "# irnext-bench report\n\nRendered by `irnext report` from the result files of the "
        "pipeline; every number below was measured by this suite unless a source is named.",
        _synth_section(data, out.parent),
        _quality_section(data, figure_dir, out.parent),
        _ablation_section(data, figure_dir, out.parent),
        _cost_section(data, figure_dir, out.parent),
        _published_section(Path(published) if published else None),
        _environment_section(data),
    ]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n\n".join(s for s in sections if s) + "\n")
    return out


def _link(path: Path, base: Path) -> str:
    """`path` relative to the report's folder, wherever the two lie."""
    return Path(os.path.relpath(path.resolve(), base.resolve())).as_posix()


def _synth_section(data: dict[str, Any], base: Path) -> str:
    sheets = data["contact_sheets"]
    if not sheets:
        return "## Synthetic benchmark\n\n(no contact sheets found)"
    lines = [
        "## Synthetic benchmark",
        "",
        "Clean photographs shipped in installed packages, degraded by physical models "
        "(`results/synth/README.md`). Top row clean, bottom row degraded.",
    ]
    lines += [f"\n**{p.stem}**\n\n![{p.stem}]({_link(p, base)})" for p in sheets]
    return "\n".join(lines)


def _quality_section(data: dict[str, Any], figure_dir: Path, base: Path) -> str:
    lines = ["## Restoration quality", ""]
    if not data["evaluations"] and not data["aggregates"]:
        return "\n".join(lines + ["(no evaluations found)"])
    for scored, summaries in sorted(data["evaluations"].items()):
        lines += [
            f"### {scored}",
            "",
            tables.quality_table(summaries),
            "",
        ]
    for aggregate in data["aggregates"]:
        title = {"dpdd": "DPDD indoor / outdoor / combined", "rain13k_average": "Rain13K average"}
        partial = (
            " (a split is smaller than published)" if aggregate.get("complete") is False else ""
        )
        lines += [
            f"### {title[aggregate['aggregate']]}: {aggregate['model']}",
            "",
            f"Protocol `{aggregate['protocol']}`{partial}.",
            "",
            tables.aggregate_table(aggregate),
            "",
        ]
    if data["histories"]:
        path = figures.training_curves(data["histories"], figure_dir / "training_curves.png")
        first = next(iter(data["histories"].values()))
        runs = ", ".join(
            f"`{h['dataset']}` {sum(e['steps'] for e in h['epochs'])} steps "
            f"({sum(e['seconds'] for e in h['epochs']):.1f} s)"
            for h in data["histories"].values()
        )
        lines += [
            "### Training",
            "",
            f"Model `{first['model']}` with overrides {first.get('model_kwargs') or '{}'}, "
            f"recipe {_recipe(first['config'])}: {runs}. Scores of such a budget show that "
            "the pipeline runs "
            "end to end; they say nothing of the paper's claims, which need its recipes "
            "(`irnext train --recipe`, `irnext.training.RECIPES`) on the real datasets.",
            "",
            f"![training curves]({_link(path, base)})",
        ]
    return "\n".join(lines)


def _recipe(config: dict[str, Any]) -> str:
    keys = ("epochs", "batch_size", "patch_size", "lr", "fft_weight", "grad_clip", "seed")
    return ", ".join(f"{k}={config[k]}" for k in keys if k in config)


def _ablation_section(data: dict[str, Any], figure_dir: Path, base: Path) -> str:
    if not data["ablations"]:
        return ""
    lines = ["## Ablations", ""]
    for result in data["ablations"]:
        path = figures.ablation_bars(result, figure_dir / f"ablation_{result['study']}.png")
        lines += [
            f"### {result['title']}",
            "",
            result.get("question", ""),
            "",
            f"Base model `{result['base_model']}`, trained on {result['dataset']} "
            f"({result['train_split']}) with {_recipe(result['train_config'])}; scored on "
            f"{result['test_split']} under `{result['protocol']}`. "
            f"Mirrors: {result.get('reference') or '-'}.",
            "",
            tables.ablation_table(result),
            "",
            f"![{result['study']}]({_link(path, base)})",
            "",
        ]
    return "\n".join(lines)


def _cost_section(data: dict[str, Any], figure_dir: Path, base: Path) -> str:
    records = data["complexity"]
    if not records:
        return "## Cost\n\n(no complexity records found)"
    path = figures.complexity_bars(records, figure_dir / "complexity.png")
    size = "x".join(str(s) for s in records[0]["input_shape"])
    lines = [
        "## Cost",
        "",
        f"Parameters and multiply-accumulates at {size} from three counters sharing one "
        "convention (`irnext.cost.conventions`); `paper` is the published figure and the "
        "counter that produced it (`benchmarks/published/cost.yaml`).",
        "",
        tables.complexity_table(records),
        "",
        f"![complexity]({_link(path, base)})",
    ]
    inferred = [(r["model"], r["assumption"]) for r in records if r.get("assumption")]
    if inferred:
        lines += ["", "Inferred configurations (not published by the authors):", ""]
        lines += [f"- `{model}`: {assumption}" for model, assumption in inferred]
    gaps = [
        (r["model"], r["reported"]["gap"]) for r in records if (r.get("reported") or {}).get("gap")
    ]
    if gaps:
        lines += ["", "Gaps to the papers' figures:", ""]
        lines += [f"- `{model}`: {gap}" for model, gap in gaps]
    return "\n".join(lines)


def _published_section(published: Path | None) -> str:
    path = published / "quality.yaml" if published else None
    if path is None or not path.is_file():
        return ""
    entries = yaml.safe_load(path.read_text())
    lines = ["## Published figures (each under its own paper's protocol)", ""]
    for name, entry in entries.items():
        if isinstance(entry, dict) and "results" in entry:
            lines += [
                f"**{name}** (`{entry.get('protocol', '?')}`)",
                "",
                tables.published_table(entry),
                "",
            ]
    return "\n".join(lines)


def _environment_section(data: dict[str, Any]) -> str:
    stamps: dict[tuple, str] = {}
    records = [
        *data["histories"].values(),
        *[s for v in data["evaluations"].values() for s in v],
        *(data["complexity"] or []),
        *data["ablations"],
    ]
    for record in records:
        env = record.get("environment") or {}
        stamps.setdefault(tuple(env.get(k) for k in ENVIRONMENT_KEYS), env.get("timestamp_utc"))
    if not stamps:
        return ""
    rows = [[*key, stamp] for key, stamp in stamps.items()]
    return "## Environments\n\n" + tables.markdown_table([*ENVIRONMENT_KEYS, "first seen"], rows)
