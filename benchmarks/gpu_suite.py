"""GPU suite: 720p evaluation throughput, the fast IRNeXt, official-figure comparisons, scaling.

    python benchmarks/gpu_suite.py --out DIR [--quick] [--device cpu] [--budget-s 360]
        [--sections evaluation,official,train_step,ladder,scaling,extras] [--sizes 256x256 736x1280]

Writes DIR/results.json (every record with its environment stamp), DIR/table.md (ours against
the official H100 timings of benchmarks/published/cost.yaml; the 1280x720 evaluation's images/s)
and DIR/scaling.png, rewritten after every section. Sections run in the order given and each
checks the time budget first, so one run always finishes with its files written; a cell
skipped for time, out of memory, or raising is recorded as such and the others still run. Imports
no fvcore/ptflops (not installed on the GPU image). `--device cpu --quick` is a dry run at tiny
sizes. Exits 1 when a step leaves 1e-2 relative L2, a cell raised, or device scores differ from
the CPU's.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import json
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import torch
import yaml
from gpu_tables import OFFICIAL_MODELS, render_table  # beside this script in benchmarks/

import irnext.models.blocks as blocks
from irnext.cost.fast import capture_cuda_graph, prepare_for_inference, relative_l2
from irnext.cost.latency import measure_latency, time_callable
from irnext.cost.scaling import plot_scaling, resolution_sweep
from irnext.cost.train_step import measure_train_step
from irnext.env import environment_stamp
from irnext.inference import forward_restored
from irnext.models.official import to_official
from irnext.models.registry import create_model
from irnext.precisions import PRECISIONS

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # the tests' independent reference of the release
from tests._eval_helpers import with_active_branches  # noqa: E402
from tests.reference_irnext import OfficialIRNeXt, dynamic_filter_unfold  # noqa: E402

SCALING_MODELS = ("irnext-dehaze", "restormer", "nafnet-w64")


def unfold_dynamic_filter(x: torch.Tensor, kernels: torch.Tensor) -> torch.Tensor:
    """Official LAM filtering (F.unfold, multiply, sum) behind our N x G x k x k kernels: the
    baseline of the grouped-conv lever."""
    return dynamic_filter_unfold(x, kernels.flatten(1), kernels.shape[1])


def official_structure(model: torch.nn.Module) -> torch.nn.Module:
    """`model`'s weights in the test suite's independent re-implementation of the release's
    module structure (tests/reference_irnext.py: BasicConv wrappers, unfold LAM, official key
    names), which the tests hold equal to ours: the closest stand-in for the official code."""
    reference = OfficialIRNeXt(num_res=model.config["num_res"])
    reference.load_state_dict(to_official(model.state_dict()))
    return reference.to(next(model.parameters()).device).eval()


@contextlib.contextmanager
def official_dynamic_filter() -> Iterator[None]:
    grouped = blocks.apply_dynamic_filter
    blocks.apply_dynamic_filter = unfold_dynamic_filter
    try:
        yield
    finally:
        blocks.apply_dynamic_filter = grouped


# The fast-IRNeXt ladder (benchmarks/NOTES.md): step name -> prepare_for_inference levers. The
# first step runs the same fp32 eager model with the official unfold LAM patched in.
LADDER: list[tuple[str, dict[str, Any]]] = [
    ("official structure (reference), fp32 eager", {"dtype": "fp32", "channels_last": False}),
    ("official unfold LAM, fp32 eager", {"dtype": "fp32", "channels_last": False}),
    ("grouped-conv LAM, fp32 eager", {"dtype": "fp32", "channels_last": False}),
    ("+ channels_last, fp32", {"dtype": "fp32", "channels_last": True}),
    ("bf16 autocast, eager", {"dtype": "bf16", "autocast": True, "channels_last": False}),
    ("bf16 weights + channels_last, eager", {"dtype": "bf16", "channels_last": True}),
    (
        "bf16 + channels_last + torch.compile",
        {"dtype": "bf16", "channels_last": True, "compile": True},
    ),
]
EXTRA_STEPS = [("fp32 + torch.compile", {"dtype": "fp32", "channels_last": True, "compile": True})]


class Budget:
    def __init__(self, seconds: float) -> None:
        self.start = time.monotonic()
        self.end = self.start + seconds

    def left(self) -> float:
        return self.end - time.monotonic()

    def log(self, message: str) -> None:
        print(f"[{time.monotonic() - self.start:6.1f} s] {message}", flush=True)


def lever_ladder(
    size: tuple[int, int], cfg: dict[str, Any], *, extras: bool = False
) -> list[dict[str, Any]]:
    """IRNeXt-dehaze, one lever added per step; each output compared with fp32 eager.

    The fast mode's steps run first; `extras` (compiled fp32, for the official compiled figure)
    run after the official comparison and the scaling sweep, as the budget allows.
    """
    device = cfg["device"]
    torch.manual_seed(0)
    base = with_active_branches(create_model("irnext-dehaze")).eval().to(device)
    x = torch.rand(1, 3, *size, device=device)
    with torch.no_grad():
        reference = forward_restored(base, x)
    records: list[dict[str, Any]] = []
    for name, levers in EXTRA_STEPS if extras else LADDER:
        if cfg["budget"].left() < cfg["reserve_s"]:
            records.append({"step": name, "size": list(size), "skipped": "time budget"})
            continue
        cfg["budget"].log(f"ladder {size}: {name}")
        try:
            records += _ladder_step(name, levers, base, x, reference, cfg)
        except Exception as error:  # one failing lever must not lose the others' numbers
            records.append({"step": name, "size": list(size), "error": _describe(error)})
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
    return records


def _ladder_step(name, levers, base, x, reference, cfg) -> list[dict[str, Any]]:
    """Prepare one step (timing the set-up: compilation, cuDNN's search), check, then time it."""
    if levers.get("compile"):
        levers = {**levers, "compile_backend": cfg["compile_backend"]}
    if name.startswith("official structure"):
        base = official_structure(base)
    with official_dynamic_filter() if name.startswith("official") else contextlib.nullcontext():
        start = time.perf_counter()
        forward = prepare_for_inference(copy.deepcopy(base), **levers)
        forward(x)  # the first call compiles (and lets cuDNN pick its kernels)
        setup_s = time.perf_counter() - start
        variants = [(name, forward)]
        if levers.get("compile") and not cfg["cpu"]:
            variants.append((name + " + CUDA graphs", capture_cuda_graph(forward, x)))
        records = []
        for label, fn in variants:
            timing = time_callable(
                lambda fn=fn: fn(x), device=cfg["device"], warmup=cfg["warmup"], runs=cfg["runs"]
            )
            records.append(
                {
                    "step": label,
                    "model": "irnext-dehaze",
                    "size": list(x.shape[-2:]),
                    "batch": 1,
                    "relative_l2_vs_fp32_eager": relative_l2(fn(x), reference),
                    "setup_s": setup_s,
                    **timing,
                }
            )
    return records


def _describe(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0] if lines else ''}"[:500]


def _measure_cell(cell: dict[str, Any], measure: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """`cell` with `measure()`'s record, or with the out-of-memory or error it raised: one
    failing cell must not lose the others' numbers."""
    try:
        return {**cell, **measure()}
    except torch.cuda.OutOfMemoryError as error:
        return {**cell, "oom": _describe(error)}
    except Exception as error:
        return {**cell, "error": _describe(error)}
    finally:
        if torch.cuda.is_available():
            torch.cuda.empty_cache()


def official_comparison(
    size: tuple[int, int], cfg: dict[str, Any], *, batch: int = 1
) -> list[dict[str, Any]]:
    """The official table's cells for our implementations: eager, fp32 and bf16 autocast."""
    records = []
    for name in OFFICIAL_MODELS:
        for dtype in PRECISIONS:
            cell = {"model": name, "size": list(size), "precision": dtype}
            if cfg["budget"].left() < cfg["reserve_s"]:
                records.append({**cell, "skipped": "time budget"})
                continue
            cfg["budget"].log(f"official {size} batch {batch}: {name} {dtype}")
            records.append(
                _measure_cell(
                    cell,
                    lambda name=name, dtype=dtype: measure_latency(
                        create_model(name),
                        (batch, 3, *size),
                        device=cfg["device"],
                        dtype=dtype,
                        warmup=cfg["warmup"],
                        runs=cfg["runs"],
                    ),
                )
            )
    return records


def train_steps(cfg: dict[str, Any]) -> list[dict[str, Any]]:
    """The official table's training column: one Adam step at batch 4, 256x256, fp32."""
    records = []
    size = [64, 64] if cfg["tiny"] else [256, 256]
    for name in OFFICIAL_MODELS:
        cell = {"model": name, "size": size, "precision": "fp32"}
        if cfg["budget"].left() < cfg["reserve_s"]:
            records.append({**cell, "skipped": "time budget"})
            continue
        cfg["budget"].log(f"train step {size} batch 4: {name}")
        torch.manual_seed(0)
        records.append(
            _measure_cell(
                cell,
                lambda name=name: measure_train_step(
                    create_model(name),
                    batch=4,
                    size=tuple(size),
                    device=cfg["device"],
                    warmup=cfg["warmup"],
                    runs=max(cfg["runs"] // 2, 1),
                ),
            )
        )
    return records


def scaling(cfg: dict[str, Any]) -> list[dict[str, Any]]:
    records = []
    for name in SCALING_MODELS:
        if cfg["budget"].left() < cfg["reserve_s"]:
            records.append({"model": name, "skipped": "time budget", "oom": False, "size": None})
            continue
        cfg["budget"].log(f"scaling: {name}")
        try:
            records += resolution_sweep(
                {name: lambda name=name: create_model(name)},
                cfg["scaling_sizes"],
                device=cfg["device"],
                dtype="fp32",
                warmup=cfg["warmup"],
                runs=cfg["scaling_runs"],
            )
        except Exception as error:
            records.append({"model": name, "error": _describe(error), "oom": False, "size": None})
    return records


# Cheap, decisive sections first: the eager official-table cells take seconds each, the ladder's
# compiled steps a minute or more of compilation per size.
SECTIONS = (
    "evaluation",
    "official",
    "train_step",
    "ladder",
    "scaling",
    "extras",
    "user_batch",
)


def parse_size(text: str) -> tuple[int, int]:
    height, _, width = text.partition("x")
    try:
        return int(height), int(width or height)
    except ValueError:
        raise argparse.ArgumentTypeError(f"size '{text}': expected HxW, e.g. 736x1280") from None


def write_outputs(results: dict[str, Any], out: Path) -> None:
    """results.json and table.md as they stand: a later section failing loses nothing before it."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=1, default=str))
    official = yaml.safe_load((HERE / "published" / "cost.yaml").read_text())["official_timings"]
    (out / "table.md").write_text(render_table(results, official))


def evaluation(cfg: dict[str, Any]) -> dict[str, Any]:
    """A 1280x720 GoPro-layout set scored with batched metrics on the device (gpu_evaluate)."""
    from gpu_evaluate import CASES, QUICK_CASES, run, write_720p_set

    count = 4 if cfg["tiny"] else 32
    cfg["budget"].log(f"evaluation: {count} pairs at 1280x720")
    try:
        with tempfile.TemporaryDirectory() as folder:  # ~100 MB of PNGs: not among the results
            root = write_720p_set(Path(folder), count=count)
            cases = QUICK_CASES if cfg["tiny"] else CASES
            workers = 0 if cfg["cpu"] else 4
            records, mismatched = run(
                root, cfg["device"], count=count, cases=cases, workers=workers
            )
        return {"records": records, "device_vs_cpu_mismatches": mismatched}
    except Exception as error:
        return {"error": _describe(error)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--quick", action="store_true", help="fewer runs and sizes")
    parser.add_argument("--device", default="cuda")
    parser.add_argument(
        "--sections",
        default=",".join(SECTIONS[:-1]),
        help=f"comma-separated, run in this order: {', '.join(SECTIONS)}",
    )
    parser.add_argument(
        "--sizes", type=parse_size, nargs="+", help="ladder and official sizes (HxW)"
    )
    parser.add_argument("--runs", type=int, help="timed runs per cell (default 50; quick 20)")
    parser.add_argument("--warmup", type=int, help="warm-up runs per cell (default 10)")
    parser.add_argument(
        "--user-batch", type=int, default=8, help="batch of the user_batch section (first size)"
    )
    parser.add_argument(
        "--budget-s",
        type=float,
        default=360.0,
        help="a section starts only with its reserve left: ends within ~7 min",
    )
    args = parser.parse_args(argv)
    sections = [name.strip() for name in args.sections.split(",") if name.strip()]
    unknown = sorted(set(sections) - set(SECTIONS))
    if unknown:
        parser.error(f"unknown section(s) {unknown}; expected any of {', '.join(SECTIONS)}")
    cpu = torch.device(args.device).type == "cpu"
    torch.backends.cudnn.benchmark = True  # fixed input sizes: let cuDNN pick its kernels
    tiny = cpu and args.quick
    cfg = {
        "device": args.device,
        "cpu": cpu,
        "tiny": tiny,
        "budget": Budget(args.budget_s),
        "reserve_s": 20.0 if tiny else 60.0,
        "runs": args.runs or (2 if tiny else (20 if args.quick else 50)),
        "warmup": args.warmup if args.warmup is not None else (1 if tiny else 10),
        "scaling_runs": 3 if tiny else 20,
        "scaling_sizes": [64, 128]
        if tiny
        else ([256, 512, 1024] if args.quick else [256, 512, 1024, 1536, 2048]),
        # inductor generates C++ on CPU (needs a compiler); aot_eager only traces: dry runs
        "compile_backend": "aot_eager" if tiny else "inductor",
    }
    sizes = args.sizes or ([(64, 64)] if tiny else [(256, 256), (736, 1280)])
    results: dict[str, Any] = {
        "environment": environment_stamp(args.device),
        "quick": args.quick,
        "sections": sections,
        "sizes": [list(s) for s in sizes],
        "budget_s": args.budget_s,
        "runs": cfg["runs"],
        "warmup": cfg["warmup"],
        "lever_ladder": [],
        "official_comparison": [],
        "scaling": [],
    }
    for section in sections:
        if section == "evaluation":
            results["evaluation"] = evaluation(cfg)
        elif section in ("ladder", "extras"):
            extras = section == "extras"
            results["lever_ladder"] += [
                r for s in sizes for r in lever_ladder(s, cfg, extras=extras)
            ]
        elif section == "official":
            results["official_comparison"] += [
                r for s in sizes for r in official_comparison(s, cfg)
            ]
        elif section == "train_step":
            results["train_step"] = train_steps(cfg)
        elif section == "scaling":
            results["scaling"] = scaling(cfg)
        elif section == "user_batch":
            results["user_batch"] = official_comparison(sizes[0], cfg, batch=args.user_batch)
        write_outputs(results, args.out)
    write_outputs(results, args.out)
    plotted = [r for r in results["scaling"] if r.get("size") is not None]
    if plotted:
        plot_scaling(plotted, args.out / "scaling.png")
    print((args.out / "table.md").read_text())
    return _verdict(results)


def _verdict(results: dict[str, Any]) -> int:
    """Exit 1 when a check failed: a step beyond 1e-2 relative L2, device scores off the CPU's."""
    failed = [r for r in results["lever_ladder"] if r.get("relative_l2_vs_fp32_eager", 0) >= 1e-2]
    keys = ("lever_ladder", "official_comparison", "train_step", "scaling")
    errors = [r for key in keys for r in results.get(key, [])]
    errors = [r for r in errors if "error" in r]
    mismatched = results.get("evaluation", {}).get("device_vs_cpu_mismatches", [])
    print(f"relative L2 >= 1e-2 in {len(failed)} step(s)" if failed else "all steps within 1e-2")
    print(f"{len(errors)} cell(s) raised: see 'error' in results.json" if errors else "no errors")
    if "evaluation" in results:
        evaluation_state = results["evaluation"].get("error") or (
            f"device scores differ from CPU on {mismatched}" if mismatched else "device == CPU"
        )
        print(f"evaluation: {evaluation_state}")
    return 1 if failed or errors or mismatched or "error" in results.get("evaluation", {}) else 0


if __name__ == "__main__":
    sys.exit(main())
