"""Markdown tables rendered from result records (plain dicts read from JSON)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A GitHub-flavoured table; numbers are formatted by `cell`."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def cell(value: Any, digits: int = 2) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if math.isinf(value):
            return "inf"
        return f"{value:.{digits}f}" if abs(value) >= 1 or value == 0 else f"{value:.4f}"
    return str(value).replace("|", "\\|").replace("\n", " ")


def quality_table(summaries: Sequence[dict[str, Any]]) -> str:
    """One row per evaluated model: protocol, image count, mean PSNR / SSIM (and MAE)."""
    rows = []
    for s in summaries:
        means = s["means"]
        rows.append(
            [
                s["model"],
                s["protocol"],
                s["count"],
                _psnr_mean(s),
                _four(means.get("ssim")),
                _four(means.get("mae")),
            ]
        )
    return markdown_table(["model", "protocol", "images", "PSNR (dB)", "SSIM", "MAE"], rows)


def aggregate_table(aggregate: dict[str, Any]) -> str:
    """The papers' cross-set figures (`irnext aggregate`): one row per set or scene category,
    the aggregate last. Rain13K: each set's mean, then the mean of the five."""
    if aggregate["aggregate"] == "dpdd":
        parts = [(g, aggregate[g]) for g in ("indoor", "outdoor", "combined")]
        header = ["scenes", "images", "PSNR (dB)", "SSIM", "MAE"]
        rows = [
            [name, v["count"], v.get("psnr_db"), _four(v.get("ssim")), _four(v.get("mae"))]
            for name, v in parts
        ]
        return markdown_table(header, rows)
    sets = [(name, means) for name, means in aggregate["per_set"].items()]
    rows = [[name, means.get("psnr_db"), _four(means.get("ssim"))] for name, means in sets]
    means = aggregate["means"]
    rows.append(["**average**", means.get("psnr_db"), _four(means.get("ssim"))])
    return markdown_table(["set", "PSNR (dB)", "SSIM"], rows)


def _psnr_mean(summary: dict[str, Any]) -> float | str | None:
    """A null mean PSNR with identical pairs in the set is +inf (JSON has no infinity)."""
    value = summary["means"].get("psnr_db")
    if value is None and summary.get("psnr_db_infinite_count"):
        return f"inf ({summary['psnr_db_infinite_count']} identical)"
    return value


def _four(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"


def complexity_table(records: Sequence[dict[str, Any]]) -> str:
    rows = []
    for r in records:
        reported = r.get("reported") or {}
        rows.append(
            [
                r["model"] + (" (inferred)" if r.get("assumption") else ""),
                r["params"],
                r["macs_fvcore"] / 1e9 if "macs_fvcore" in r else None,
                r["macs_ptflops"] / 1e9 if "macs_ptflops" in r else None,
                r["macs_torch"] / 1e9 if "macs_torch" in r else None,
                _reported(reported),
                len(r.get("uncounted_ops", [])),
            ]
        )
    header = [
        "model",
        "params",
        "GMACs fvcore",
        "GMACs ptflops",
        "GMACs torch",
        "paper (counter)",
        "uncounted ops",
    ]
    return markdown_table(header, rows)


def _reported(reported: dict[str, Any]) -> str:
    if not reported or reported.get("gmacs") is None:
        return "-"
    return f"{reported['gmacs']:g} G ({reported.get('counter', '?')})"


def ablation_table(result: dict[str, Any]) -> str:
    """Variants of one study with the PSNR difference to the first (reference) row, paired
    image by image: mean difference +- its standard error over the test images."""
    variants = result["variants"]
    first = variants[0]
    rows = []
    for v in variants:
        overrides = {**v.get("model_kwargs", {}), **v.get("train_overrides", {})}
        delta = "-" if v is first else _paired_difference(v, first)
        rows.append(
            [
                v["variant"],
                _overrides(overrides),
                v["params"],
                v["gmacs_256"],
                v["psnr_db"],
                delta,
                _four(v["ssim"]),
                v["train_seconds"],
            ]
        )
    header = [
        "variant",
        "overrides",
        "params",
        "GMACs @256",
        "PSNR (dB)",
        f"vs {first['variant']} (dB, paired, +- s.e.)",
        "SSIM",
        "train (s)",
    ]
    return markdown_table(header, rows)


def paired_difference(a: dict[str, float], b: dict[str, float]) -> tuple[float, float | None]:
    """Mean and standard error of a[name] - b[name] over the names both score."""
    names = sorted(set(a) & set(b))
    if not names:
        raise ValueError("no image is scored in both records")
    diffs = [a[n] - b[n] for n in names]
    mean = sum(diffs) / len(diffs)
    if len(diffs) < 2:
        return mean, None
    variance = sum((d - mean) ** 2 for d in diffs) / (len(diffs) - 1)
    return mean, math.sqrt(variance / len(diffs))


def _paired_difference(variant: dict[str, Any], reference: dict[str, Any]) -> str:
    ours, theirs = variant.get("psnr_db_per_image"), reference.get("psnr_db_per_image")
    if not ours or not theirs:  # records without per-image scores: difference of means
        return _signed(variant["psnr_db"] - reference["psnr_db"])
    mean, error = paired_difference(ours, theirs)
    return _signed(mean) + ("" if error is None else f" +- {error:.2f}")


def _overrides(overrides: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in overrides.items()) or "(none)"


def _signed(value: float | None) -> str:
    return "-" if value is None else f"{value:+.2f}"


def published_table(entry: dict[str, Any]) -> str:
    rows = [
        [r["model"], r.get("psnr_db"), _four(r.get("ssim")), r.get("source", ""), r.get("note", "")]
        for r in entry.get("results", [])
    ]
    return markdown_table(["model", "PSNR (dB)", "SSIM", "source", "note"], rows)
