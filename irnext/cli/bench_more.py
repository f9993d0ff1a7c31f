"""The pipeline's whole-profile cells of `irnext bench`: complexity, ablations, official weights.

irnext bench complexity            # results/cost/complexity.json (+ .run.json: environment)
irnext bench latency               # results/latency/MODEL.json, interleaved, on its device
irnext bench scaling               # results/scaling/scaling.json
irnext bench ablate --study depth  # ablations/depth.yaml with the profile's recipe and seeds
irnext bench pretrained --name NAME  # weights of params `pretrained.NAME` on their task's sets
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from irnext.cli.params import section
from irnext.errors import InputError
from irnext.names import check_name

PUBLISHED = Path("benchmarks/published/cost.yaml")
KINDS = {"irnext": "--official-irnext", "baseline": "--baseline-weights"}


def complexity(params: dict[str, Any]) -> None:
    """Every compared model's parameters and MACs; the environment apart (it changes)."""
    from irnext.cost.complexity import load_published, model_complexity
    from irnext.io import atomic_write_json

    side = int(section(params, "complexity", "size"))
    published = load_published(PUBLISHED) if PUBLISHED.is_file() else None
    records, environment = [], None
    for name in section(params, "cost_models"):
        record = model_complexity(name, size=(side, side), published=published)
        environment = record.pop("environment")
        records.append(record)
        print(f"{name}: {record['params']:,} params, {record['gmacs_fvcore']:.3f} GMACs (fvcore)")
    atomic_write_json(Path("results/cost/complexity.json"), records, indent=1)
    atomic_write_json(Path("results/cost/complexity.run.json"), {"environment": environment})


def latency_commands(params: dict[str, Any], which: str) -> list[list[str]]:
    """`irnext latency` of every compared model (CPU: 256 x 256 with the threads stated in each
    record; CUDA: also a 720p frame, with peak memory), or the scaling curve."""
    spec = section(params, "latency")
    common = ["--device", str(spec["device"]), "--runs", str(spec["runs"])]
    common += ["--warmup", str(spec["warmup"])]
    if which == "latency":
        models = [str(m) for m in section(params, "cost_models")]
        return [
            ["latency", "--models", *models, *common, "--size", "256", "256"]
            + ["--cuda-size", "720", "1280", "--out-dir", "results/latency"]
        ]
    models = [str(m) for m in spec["scaling_models"]]
    sizes = [str(s) for s in spec["scaling_sizes"]]
    return [
        ["latency", "--models", *models, *common, "--sweep", *sizes]
        + ["--out", "results/scaling/scaling.json"]
    ]


def ablate_command(params: dict[str, Any], study: str, recipe_flags: list[str]) -> list[str]:
    """`irnext ablate` of one study with the profile's recipe (its own epochs) and seeds."""
    spec = section(params, "ablate")
    task = spec["task"]
    if task not in section(params, "tasks"):  # its data/synth/TASK is built for `tasks` only
        raise InputError(f"params.yaml: ablate.task {task!r} is not one of tasks {params['tasks']}")
    # The studies score their variants on the test split after training; no validation curve.
    skipped = ("--epochs", "--val-split", "--val-every-steps")
    flags = [f for f in _pairs(recipe_flags) if f[0] not in skipped]
    return [
        "ablate",
        "--study",
        f"ablations/{study}.yaml",
        "--base-model",
        str(spec["base_model"]),
        "--dataset",
        f"synth-{task}",
        "--root",
        f"data/synth/{task}",
        "--seeds",
        *(str(seed) for seed in spec["seeds"]),
        "--epochs",
        str(spec["epochs"]),
        *(item for pair in flags for item in pair),
        "--out",
        f"results/ablations/{study}.json",
    ]


def _pairs(flags: list[str]) -> list[tuple[str, str]]:
    return list(zip(flags[::2], flags[1::2], strict=True))


def pretrained_commands(params: dict[str, Any], name: str, tests) -> list[list[str]]:
    """`irnext evaluate` of the official weights `pretrained.NAME` on each test set, with the
    authors' test-time wrapper (`tlc`) and under the release's protocol (`protocol`), plus the
    suite's uniform protocol where that differs (irnext.cli.bench_paper)."""
    from irnext.cli.bench_paper import check_pretrained, scoring_runs

    entry = section(params, "pretrained", name)
    where = f"params.yaml: pretrained.{name}"
    check_pretrained(entry, where)
    if entry["kind"] not in KINDS:
        raise InputError(f"{where}.kind = {entry['kind']!r}; expected one of {sorted(KINDS)}")
    device = str(section(params, "evaluate", "device"))
    out = Path("results/pretrained") / check_name(name, what="pretrained key", source=where)
    return [
        ["evaluate", KINDS[entry["kind"]], str(entry["weights"]), "--dataset", dataset]
        + ["--root", root, "--device", device, *flags, "--out", str(out / folder)]
        for dataset, root in tests
        for flags, folder in scoring_runs(entry, dataset)
    ]


def write_curve(history: Path, curve: Path) -> None:
    """The validation PSNR by step of a training history, as a DVC plot (a list of records;
    empty for a profile that does not validate). Not the training loss: IRNeXt's sums three
    output scales, the baselines' is one, so `dvc plots show` would set unlike values side by
    side."""
    from irnext.io import atomic_write_json

    checks = json.loads(history.read_text()).get("validations") or []
    points = [{"step": v["step"], "val_psnr_db": v["val_psnr_db"]} for v in checks]
    atomic_write_json(curve, points, indent=1)
