"""The pipeline's cost stages: every compared model's parameters and MACs, and several models
timed side by side (`irnext bench complexity`, `irnext latency --models`).

The latency records are timed with interleaved repeats in one process
(irnext.cost.latency.compare_latency), so the models share the machine's state; models pad as
inference would, and those that share a padded size are timed together. The scaling records
(irnext.cost.scaling.resolution_sweep) keep `SCALING_KEYS` only. torch is imported inside the
functions: `irnext bench --dry-run` stays light.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from irnext.pipeline.layout import RESULTS, complexity_path, run_file
from irnext.pipeline.profile import section

PUBLISHED = Path("benchmarks/published/cost.yaml")

# Keys of a scaling record (the rest of the latency record stays in the latency stage).
SCALING_KEYS = (
    "model",
    "size",
    "oom",
    "latency_ms_median",
    "latency_ms_iqr",
    "peak_memory_mib",
    "device",
    "device_name",
    "precision",
    "threads",
    "flagged",
    "flag_reasons",
    "load",
)


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
    out = complexity_path(RESULTS)
    atomic_write_json(out, records, indent=1)
    atomic_write_json(run_file(out), {"environment": environment})


def compare_models(
    names: list[str],
    size: tuple[int, int],
    *,
    device,
    dtype: str,
    warmup: int,
    runs: int,
    batch: int,
) -> dict[str, dict[str, Any]]:
    """{model: latency record} of `names` at `size`, each padded as inference would pad it."""
    from irnext.cost.latency import compare_latency
    from irnext.cost.scaling import check_sides, padded_side
    from irnext.models.registry import create_model

    models = {name: create_model(name) for name in names}
    for name, model in models.items():
        check_sides(name, model, size)
    padded = {
        name: tuple(padded_side(s, getattr(m, "size_multiple", 1)) for s in size)
        for name, m in models.items()
    }
    records = {}
    for shape in dict.fromkeys(padded.values()):
        group = {name: m for name, m in models.items() if padded[name] == shape}
        timed = compare_latency(
            group, (batch, 3, *shape), device=device, dtype=dtype, warmup=warmup, runs=runs
        )
        for name, record in timed.items():
            records[name] = {
                "model": name,
                "requested_size": list(size),
                "padded_size": list(shape),
                **record,
            }
    return {name: records[name] for name in names}


def scaling_records(names: list[str], sides: list[int], **timing: Any) -> list[dict[str, Any]]:
    """The latency and memory of each model against the image side, `SCALING_KEYS` of each;
    `timing`: device, dtype, warmup, runs, batch (irnext.cost.scaling.resolution_sweep)."""
    from irnext.cost.scaling import resolution_sweep
    from irnext.models.registry import create_model

    builders = {name: (lambda name=name: create_model(name)) for name in names}
    records = resolution_sweep(builders, sides, **timing)
    return [{key: record.get(key) for key in SCALING_KEYS} for record in records]


def write_records(path: Path, value: Any) -> None:
    """A latency or scaling result, JSON-safe (infinities and NaN as null), written whole."""
    from irnext.evaluation import json_safe
    from irnext.io import atomic_write_text

    atomic_write_text(path, json.dumps(json_safe(value), indent=1) + "\n")
