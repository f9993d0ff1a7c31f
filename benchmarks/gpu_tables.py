"""Markdown tables of the GPU suite's results.json: the official latency table (ours against the
published H100 figures), the fast-IRNeXt ladder and the 720p evaluation's throughput."""

from __future__ import annotations

from typing import Any

from irnext.precisions import PRECISIONS

OFFICIAL_MODELS = ("irnext-dehaze", "irnext-motion-deblur", "restormer", "nafnet-w64")


def _cell(records: list[dict], model: str, size: list[int], dtype: str) -> str:
    for r in records:
        if r.get("model") == model and r.get("size") == size and r.get("precision") == dtype:
            if "latency_ms_median" in r:
                return f"{r['latency_ms_median']:.1f} ± {r['latency_ms_iqr']:.1f}"
            return r.get("skipped") or ("OOM" if "oom" in r else "error")
    return "-"


def render_table(results: dict[str, Any], official: dict[str, Any]) -> str:
    env = results["environment"]
    lines = [
        f"# Cost tables: {env.get('device_name')} (driver {env.get('driver')}, torch "
        f"{env.get('torch')}, CUDA {env.get('cuda')}, cuDNN {env.get('cudnn')}, "
        f"cudnn.benchmark {env.get('cudnn_benchmark')})",
        "",
        "Batch 1, eager; ms, median ± IQR of the runs in results.json; official figures "
        f"(in parentheses): {official['device']}, torch {official['torch']}, "
        f"{official['statistic']}.",
        "",
    ]
    sizes = results["sizes"]
    header = ["model"] + [f"{h}x{w} {d}" for h, w in sizes for d in PRECISIONS]
    header.append("train step, batch 4, 256x256 fp32")
    lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for model in OFFICIAL_MODELS:
        ref = official["models"].get(model, {})
        cells = []
        for h, w in sizes:
            for d in PRECISIONS:
                key = f"ms_{h}_{d}" if (h, w) == (256, 256) else f"ms_{h}x{w}_{d}"
                paper = f" ({ref[key]})" if key in ref else ""
                cells.append(_cell(results["official_comparison"], model, [h, w], d) + paper)
        key = "train_step_ms_batch4_256_fp32"
        paper = f" ({ref[key]})" if key in ref else ""
        steps = results.get("train_step", [])
        step_size = steps[0]["size"] if steps else [256, 256]  # 64x64 in a CPU dry run
        cells.append(_cell(steps, model, step_size, "fp32") + paper)
        lines.append("| " + " | ".join([model, *cells]) + " |")
    lines += [
        "",
        "## Fast IRNeXt-dehaze: one lever per step",
        "",
        "| step | size | ms (median ± IQR) | peak MiB | rel. L2 vs fp32 eager |",
        "|---|---|---|---|---|",
    ]
    for r in results["lever_ladder"]:
        size = "x".join(map(str, r["size"]))
        if "skipped" in r or "error" in r:
            lines.append(f"| {r['step']} | {size} | {r.get('skipped') or r['error']} | | |")
            continue
        memory = f"{r['peak_memory_mib']:.0f}" if r["peak_memory_mib"] is not None else "n/a"
        lines.append(
            f"| {r['step']} | {size} | {r['latency_ms_median']:.2f} ± "
            f"{r['latency_ms_iqr']:.2f} | {memory} | "
            f"{r['relative_l2_vs_fp32_eager']:.2e} |"
        )
    lines += _evaluation_table(results.get("evaluation"))
    return "\n".join(lines) + "\n"


def _evaluation_table(evaluation: dict[str, Any] | None) -> list[str]:
    if not evaluation:
        return []
    lines = ["", "## Evaluation of a 1280x720 set (`irnext.evaluation.evaluate`)", ""]
    if "error" in evaluation:
        return [*lines, f"Failed: {evaluation['error']}"]
    lines += [
        "| model | batch | options | images | protocol | images/s end to end | metric images/s "
        "| bf16 largest PSNR change (dB) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in evaluation["records"]:
        options = ", ".join(f"{k}={v}" for k, v in r.get("options", {}).items()) or "fp32 eager"
        check = r.get("bf16_check") or {}
        gap = f"{check['max_psnr_db_gap']:.4f}" if "max_psnr_db_gap" in check else ""
        lines.append(
            f"| {r['model']} | {r['batch']} | {options} | {r['images']} | {r['protocol']} | "
            f"{r['images_per_second']:.1f} | {r['metric_images_per_second']:.1f} | {gap} |"
        )
    mismatched = evaluation["device_vs_cpu_mismatches"]
    lines += ["", f"Identity scores on the device equal the CPU's: {not mismatched}."]
    return lines
