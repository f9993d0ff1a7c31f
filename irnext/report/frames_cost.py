"""Display frames of the cost, environment and published-figure tables."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from irnext.report.tables import cell, frame

# What makes two environments different; never a commit or a timestamp (they change every run).
ENVIRONMENT_KEYS = (
    "device",
    "device_name",
    "torch",
    "cuda",
    "torch_num_threads",
    "cpu_count",
    "python",
    "numpy",
    "pillow",
)


def complexity_frame(records: Sequence[dict[str, Any]]) -> pd.DataFrame:
    rows = []
    for r in records:
        rows.append(
            [
                r["model"] + (" (assumed)" if r.get("assumption") else ""),
                r["params"],
                _giga(r.get("macs_fvcore")),
                _giga(r.get("macs_ptflops")),
                _giga(r.get("macs_torch")),
                _reported(r.get("reported") or {}),
                len(r.get("uncounted_ops", [])),
            ]
        )
    header = ["model", "params", "GMACs fvcore", "GMACs ptflops", "GMACs torch"]
    return frame([*header, "paper (counter)", "uncounted ops"], rows)


def _giga(macs: float | None) -> float | None:
    return None if macs is None else macs / 1e9


def _reported(reported: dict[str, Any]) -> str:
    if not reported or reported.get("gmacs") is None:
        return "-"
    return f"{reported['gmacs']:g} G ({reported.get('counter', '?')})"


def flag_reason(record: dict[str, Any]) -> str:
    """Why a timing was flagged: its verdict's reasons, else its load record's."""
    reasons = record.get("flag_reasons") or []
    return "; ".join(reasons) or (record.get("load") or {}).get("reason") or "busy"


def latency_frame(records: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """Every timing with its spread and load; a flagged one shows its reason, not its value."""
    rows = []
    for r in records:
        env = r.get("environment") or {}
        flagged = bool(r.get("flagged"))
        median = f"flagged ({flag_reason(r)})" if flagged else cell(r["latency_ms_median"])
        rows.append(
            [
                r["model"],
                r.get("device") or env.get("device") or "-",
                r.get("device_name") or env.get("device_name") or "-",
                cell(r.get("threads", env.get("torch_num_threads"))),
                "x".join(str(s) for s in r.get("input_shape") or []) or "-",
                r.get("precision") or "-",
                median,
                "-" if flagged else cell(r.get("latency_ms_iqr")),
                cell(r.get("runs")),
                cell(r.get("peak_memory_mib")),
            ]
        )
    header = ["model", "device", "device name", "threads", "input", "precision"]
    return frame([*header, "median (ms)", "IQR (ms)", "runs", "peak memory (MiB)"], rows)


def environment_frame(stamps: Sequence[tuple[str, dict[str, Any]]]) -> pd.DataFrame | None:
    """One row per distinct environment (ENVIRONMENT_KEYS) with the kinds of files it made."""
    rows = [
        {**{k: cell(env.get(k)) for k in ENVIRONMENT_KEYS}, "kind": kind} for kind, env in stamps
    ]
    if not rows:
        return None
    long = pd.DataFrame(rows)
    grouped = long.groupby(list(ENVIRONMENT_KEYS), sort=True)["kind"]
    table = grouped.agg(files="size", made=lambda kinds: ", ".join(sorted(set(kinds))))
    table = table.reset_index()
    table["files"] = table["files"].map(cell)
    return table.astype(object)


def aggregate_frame(aggregate: dict[str, Any]) -> pd.DataFrame:
    """The papers' cross-set figures (`irnext aggregate`): DPDD scene groups, or each Rain13K
    set's mean and then the plain mean of the five."""
    if aggregate["aggregate"] == "dpdd":
        rows = [
            [g, aggregate[g]["count"], aggregate[g].get("psnr_db"), _four(aggregate[g], "ssim")]
            for g in ("indoor", "outdoor", "combined")
        ]
        return frame(["scenes", "images", "PSNR (dB)", "SSIM"], rows)
    rows = [[name, m.get("psnr_db"), _four(m, "ssim")] for name, m in aggregate["per_set"].items()]
    rows.append(["average", aggregate["means"].get("psnr_db"), _four(aggregate["means"], "ssim")])
    return frame(["set", "PSNR (dB)", "SSIM"], rows)


def _four(mapping: dict[str, Any], key: str) -> str:
    value = mapping.get(key)
    return "-" if value is None else f"{value:.4f}"


def published_frame(entry: dict[str, Any]) -> pd.DataFrame:
    rows = [
        [r["model"], r.get("psnr_db"), _four(r, "ssim"), r.get("source", ""), r.get("note", "")]
        for r in entry.get("results", [])
    ]
    return frame(["model", "PSNR (dB)", "SSIM", "source", "note"], rows)


def published_for_task(entries: dict[str, Any], task: str) -> dict[str, str]:
    """model -> 'PSNR (dataset, protocol; source)' for the published sets of `task`."""
    found = {}
    for name, entry in entries.items():
        if not isinstance(entry, dict) or entry.get("task") != task:
            continue
        for r in entry.get("results", []):
            protocol = r.get("protocol", entry.get("protocol", "?"))  # the result's own first
            where = f"{name}, {protocol}; {r.get('source', '?')}"
            found.setdefault(r["model"], f"{r['psnr_db']:.2f} ({where})")
    return found
