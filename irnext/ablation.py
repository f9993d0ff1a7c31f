"""Ablation studies as data: a YAML file names a base model and its variants; running it trains
and scores every variant under one recipe, so each row differs from the paper model only by the
overrides it lists.

    name: components
    title: Which of IRNeXt's components carry the quality?
    base_model: irnext-test
    reference: IRNeXt paper, ablation tables (section 4.4)
    variants:
      - {name: paper}
      - {name: no-lam, model_kwargs: {lam: false}}
      - {name: no-fft-loss, train: {fft_weight: 0.0}}
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from irnext.cost.counters import count_macs
from irnext.data import PairedImageDataset
from irnext.env import environment_stamp
from irnext.errors import InputError
from irnext.evaluation import EvalOptions, evaluate, json_safe
from irnext.io import read_yaml_mapping
from irnext.models.registry import create_model, model_entry
from irnext.training import TrainConfig, config_dict, train
from irnext.training.config import check_batch_norm_batch, check_model_fit

_STUDY_KEYS = {"name", "title", "question", "base_model", "reference", "variants"}
_VARIANT_KEYS = {"name", "model_kwargs", "train", "note"}
_TRAIN_KEYS = {f.name for f in dataclasses.fields(TrainConfig)}


@dataclass(frozen=True)
class Variant:
    name: str
    model_kwargs: dict[str, Any] = field(default_factory=dict)
    train: dict[str, Any] = field(default_factory=dict)  # TrainConfig overrides
    note: str = ""


@dataclass(frozen=True)
class Study:
    name: str
    title: str
    base_model: str
    variants: tuple[Variant, ...]
    question: str = ""
    reference: str = ""  # the paper table this study mirrors, if any


def load_study(path: str | Path, *, base_model: str | None = None) -> Study:
    """Read and check a study file: unknown keys, duplicate names, invalid model
    configurations and invalid training values are reported with the file, the variant and the
    key, before anything trains. `base_model` checks the variants against another base model
    (what `run_study(base_model=...)` will build)."""
    path = Path(path)
    data = read_yaml_mapping(path, expected=f"an ablation study with keys {sorted(_STUDY_KEYS)}")
    _check_keys(data, _STUDY_KEYS, f"{path}")
    for key in ("name", "title", "base_model", "variants"):
        if key not in data:
            raise InputError(f"{path}: missing key '{key}'")
    model_entry(base_model or data["base_model"])  # unknown names raise, listing the known ones
    if not isinstance(data["variants"], list) or not data["variants"]:
        raise InputError(f"{path}: 'variants' must be a non-empty list of mappings")
    variants = tuple(
        _variant(item, base_model or data["base_model"], f"{path}: variants[{i}]")
        for i, item in enumerate(data["variants"])
    )
    names = [v.name for v in variants]
    if len(set(names)) != len(names):
        raise InputError(f"{path}: variant names must be unique, got {names}")
    return Study(
        name=str(data["name"]),
        title=str(data["title"]),
        base_model=data["base_model"],
        variants=variants,
        question=str(data.get("question", "")),
        reference=str(data.get("reference", "")),
    )


def _check_keys(mapping: dict, allowed: set[str], where: str) -> None:
    unknown = sorted(set(mapping) - allowed)
    if unknown:
        raise InputError(f"{where}: unknown keys {unknown}; expected some of {sorted(allowed)}")


def _variant(item: Any, base_model: str, where: str) -> Variant:
    if not isinstance(item, dict) or "name" not in item:
        raise InputError(f"{where}: expected a mapping with at least a 'name'")
    _check_keys(item, _VARIANT_KEYS, where)
    for key in ("model_kwargs", "train"):
        if not isinstance(item.get(key) or {}, dict):
            raise InputError(f"{where}.{key}: expected a mapping, got {item[key]!r}")
    _check_keys(item.get("train") or {}, _TRAIN_KEYS, f"{where}.train")
    model_kwargs = dict(item.get("model_kwargs") or {})
    try:
        with torch.device("meta"):  # validate the configuration without allocating weights
            model = create_model(base_model, **model_kwargs)
    except (TypeError, ValueError) as error:
        raise InputError(f"{where}.model_kwargs {model_kwargs}: {error}") from error
    overrides = dict(item.get("train") or {})
    try:  # the values, on the default recipe: a bad one fails here, not after other variants
        config = dataclasses.replace(TrainConfig(), **_as_config_values(overrides))
        check_batch_norm_batch(config, model)  # the batch rule of the variant's own model
    except (TypeError, ValueError) as error:
        raise InputError(f"{where}.train {overrides}: {error}") from error
    return Variant(
        name=str(item["name"]),
        model_kwargs=model_kwargs,
        train=overrides,
        note=str(item.get("note", "")),
    )


def run_study(
    study: Study,
    *,
    train_set: PairedImageDataset,
    test_set: PairedImageDataset,
    config: TrainConfig,
    seeds: Sequence[int] = (0,),
    device: str | torch.device = "cpu",
    base_model: str | None = None,
    log: Callable[[str], None] | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Train and score every variant with the same recipe, once per seed.

    Returns (result, timings): the result holds only deterministic values (one row per variant:
    its overrides, params, MACs at 256 x 256 and, per seed, the test scores image by image and
    the loss curve); the timings hold the training seconds of each variant and seed and the
    environment stamp, so rerunning a study on the same machine rewrites the same result."""
    if not seeds or len(set(seeds)) != len(seeds):
        raise InputError(f"seeds {list(seeds)}: expected distinct seeds, at least one")
    base = base_model or study.base_model
    for variant in study.variants:  # every row's recipe, before the first variant trains
        for seed in seeds:
            _variant_config(variant, base, config, seed)
    rows, seconds = [], {}
    for variant in study.variants:
        row = _describe(variant, base)
        row["per_seed"] = []
        for seed in seeds:
            scores, took = _run_variant(variant, base, seed, train_set, test_set, config, device)
            row["per_seed"].append(scores)
            seconds[f"{variant.name}/s{seed}"] = took
            if log is not None:
                log(
                    f"{study.name}/{variant.name} seed {seed}: {scores['psnr_db']:.2f} dB, "
                    f"SSIM {scores['ssim']:.4f}, {row['params']:,} params, {took:.1f} s"
                )
        rows.append(row)
    result = {
        "study": study.name,
        "title": study.title,
        "question": study.question,
        "reference": study.reference,
        "base_model": base,
        "dataset": test_set.info.name,
        "train_split": train_set.split,
        "test_split": test_set.split,
        "protocol": test_set.info.protocol,
        "train_config": config_dict(config),
        "seeds": list(seeds),
        "variants": rows,
    }
    timings = {"study": study.name, "train_seconds": seconds}
    timings["environment"] = environment_stamp(device)
    return json_safe(result), json_safe(timings)


def _describe(variant: Variant, base: str) -> dict[str, Any]:
    """The variant's overrides and its cost (parameters, MACs at 1 x 3 x 256 x 256)."""
    with torch.device("meta"):
        model = create_model(base, **variant.model_kwargs)
    cost = count_macs(model, (1, 3, 256, 256), counters=("torch",))
    return {
        "variant": variant.name,
        "note": variant.note,
        "model_kwargs": variant.model_kwargs,
        "train_overrides": variant.train,
        "params": cost["params"],
        "gmacs_256": cost["macs_torch"] / 1e9,
    }


def _run_variant(variant, base, seed, train_set, test_set, config, device):
    """(scores of one seed, training seconds)."""
    variant_config = _variant_config(variant, base, config, seed)
    torch.manual_seed(seed)
    model = create_model(base, **variant.model_kwargs)
    started = time.perf_counter()
    history = train(model, train_set, variant_config, device=device)
    took = time.perf_counter() - started
    per_image, summary = evaluate(
        model, test_set, options=EvalOptions(device=device), model_name=f"{base}:{variant.name}"
    )
    scores = {
        "seed": seed,
        "psnr_db": summary["means"]["psnr_db"],
        "ssim": summary["means"]["ssim"],
        # Per-image scores, so that reports can pair variants (and seeds) image by image.
        "psnr_db_per_image": {row["name"]: row["psnr_db"] for row in per_image},
        "ssim_per_image": {row["name"]: row["ssim"] for row in per_image},
        "scene_per_image": {row["name"]: row["scene"] for row in per_image},  # resampling unit
        "final_loss": history[-1]["loss"],
        "loss_curve": [h["loss"] for h in history],
    }
    return scores, took


def _variant_config(variant: Variant, base: str, config: TrainConfig, seed: int) -> TrainConfig:
    """The recipe of one variant and seed: the study's recipe with the row's overrides, checked
    against the variant's model (its crop size rules)."""
    overrides = {**_as_config_values(variant.train), "seed": seed}
    try:
        variant_config = dataclasses.replace(config, **overrides)
        with torch.device("meta"):
            check_model_fit(variant_config, create_model(base, **variant.model_kwargs))
    except (TypeError, ValueError) as error:
        raise InputError(f"variant '{variant.name}' (seed {seed}): {error}") from error
    return variant_config


def _as_config_values(overrides: dict[str, Any]) -> dict[str, Any]:
    return {k: tuple(v) if isinstance(v, list) else v for k, v in overrides.items()}
