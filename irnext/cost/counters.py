"""Parameters and MACs of a model from three independent counters that share one convention.

`count_macs(model, input_shape)` runs fvcore (TorchScript trace), ptflops (aten dispatch backend)
and torch's `FlopCounterMode` (FLOPs / 2), each with the handles of `irnext.cost.handles`
registered, and returns one record: the three totals, the MACs by operator class, every operator
seen that no counter formula covers (`uncounted_ops`, expected empty) and the operators excluded by
convention (`not_counted_ops`). The convention is stated in `irnext.cost.conventions`.
"""

from __future__ import annotations

import copy
import io
import warnings
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode

from irnext.cost.conventions import INTERPOLATION_MACS_PER_OUTPUT, NOT_COUNTED_CLASS, op_base_name
from irnext.cost.handles import (
    FVCORE_NATIVE_OPS,
    dispatch_handles,
    fvcore_handles,
    with_tensor_arguments,
)
from irnext.errors import InputError

COUNTERS = ("fvcore", "ptflops", "torch")

# Operator class of every counted operator, for the per-class breakdown.
CATEGORY_OF = {
    **dict.fromkeys(
        (
            "convolution",
            "_convolution",
            "_slow_conv2d_forward",
            "cudnn_convolution",
            "convolution_overrideable",
        ),
        "conv",
    ),
    **dict.fromkeys(("mm", "addmm", "bmm", "baddbmm", "matmul", "linear", "einsum"), "matmul"),
    **dict.fromkeys(("_fft_r2c", "_fft_c2r", "_fft_c2c"), "fft"),
    **dict.fromkeys(INTERPOLATION_MACS_PER_OUTPUT, "interpolation"),
    "im2col": "unfold",
}
ATTENTION_PREFIXES = (
    "_scaled_dot_product",
    "scaled_dot_product",
    "_flash_attention",
    "_efficient_attention",
    "flex_attention",
)


def _category(op: str) -> str | None:
    if op.startswith(ATTENTION_PREFIXES):
        return "attention"
    if op.startswith("fft_"):
        return "fft"
    return CATEGORY_OF.get(op)


def count_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


class _OpInventory(TorchDispatchMode):
    """Records every aten operator that reaches dispatch (what a dispatch-level counter sees)."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: Counter[str] = Counter()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # noqa: ANN001
        self.calls[op_base_name(str(func))] += 1
        return func(*args, **(kwargs or {}))


def _meta_or_cpu(model: nn.Module, shape: Sequence[int], run: Callable) -> tuple[Any, str]:
    """Run a shape-only counter on a meta-device copy (no arithmetic: seconds, not minutes, for
    large models on a small CPU); fall back to real CPU tensors where the model cannot run on meta
    (data-dependent Python control flow, tensors created on a fixed device)."""
    try:
        meta_model = copy.deepcopy(model).to("meta")
        return run(meta_model, torch.empty(*shape, device="meta")), "meta"
    except (RuntimeError, NotImplementedError, TypeError, ValueError):
        return run(model, torch.rand(*shape)), "cpu"


def _count_torch(model: nn.Module, x: torch.Tensor) -> tuple[int, Counter, dict[str, int]]:
    from torch.utils.flop_counter import FlopCounterMode

    def as_flops(handle: Callable[..., int]) -> Callable[..., int]:
        return lambda *args, **kwargs: 2 * handle(*args, **kwargs)  # FlopCounterMode: 2 per MAC

    mapping: dict[Any, Callable[..., int]] = {}
    for packet, fn in dispatch_handles().items():
        # FlopCounterMode decomposes every overload it has no formula for before counting (it
        # would turn `upsample_nearest2d.vec` into an index gather): registering the overloads
        # next to their packet keeps these operators whole.
        for overload in (packet, *(getattr(packet, o) for o in packet.overloads())):
            mapping[overload] = as_flops(fn)
    counter = FlopCounterMode(display=False, custom_mapping=mapping)
    with torch.no_grad(), _OpInventory() as inventory, counter:
        model(x)
    flops = counter.get_flop_counts().get("Global", {})
    by_op = {op_base_name(str(op)): f // 2 for op, f in flops.items()}
    return counter.get_total_flops() // 2, inventory.calls, by_op


class _Opaque(nn.Module):
    """Hides the model from ptflops' aten engine, which registers forward hooks on the children of
    the module it is given and never removes them."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        object.__setattr__(self, "inner", model)

    def forward(self, x: torch.Tensor) -> Any:
        return self.inner(x)


def _count_ptflops(model: nn.Module, x: torch.Tensor) -> tuple[int, Counter]:
    from ptflops import get_model_complexity_info

    hooks = {
        op: with_tensor_arguments(fn) for op, fn in dispatch_handles(matmul_and_conv=True).items()
    }
    log = io.StringIO()
    with torch.no_grad(), _OpInventory() as inventory:
        macs, _ = get_model_complexity_info(
            _Opaque(model),
            tuple(x.shape[1:]),
            input_constructor=lambda _: x,
            as_strings=False,
            print_per_layer_stat=False,
            backend="aten",
            custom_modules_hooks=hooks,
            ost=log,
        )
    if macs is None:
        raise RuntimeError(f"ptflops could not count the model: {log.getvalue()[-500:]}")
    return int(macs), inventory.calls


def _count_fvcore(model: nn.Module, x: torch.Tensor) -> tuple[int, Counter]:
    with warnings.catch_warnings():  # fvcore's import calls the deprecated torch.jit.script
        warnings.simplefilter("ignore", FutureWarning)
        from fvcore.nn import FlopCountAnalysis
        from fvcore.nn.flop_count import _DEFAULT_SUPPORTED_OPS

    analysis = FlopCountAnalysis(model, x).clear_op_handles()
    analysis.set_op_handle(**{op: _DEFAULT_SUPPORTED_OPS[op] for op in FVCORE_NATIVE_OPS})
    analysis.set_op_handle(**fvcore_handles())
    # Unsupported operators are read from the analysis below, not left to fvcore's logging.
    analysis.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
    analysis.tracer_warnings("none")
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        total = analysis.total()
    unsupported = Counter({op_base_name(k): v for k, v in analysis.unsupported_ops().items()})
    return int(total), unsupported


def _formula_ops(counter: str) -> set[str]:
    """Base names of the dispatch-level operators a counter has a formula for."""
    from torch.utils.flop_counter import flop_registry

    ops = {op_base_name(str(op)) for op in dispatch_handles(matmul_and_conv=True)}
    if counter == "torch":
        ops |= {op_base_name(str(op)) for op in flop_registry}
    else:
        from ptflops.aten_ops import ATEN_OPS_MAPPING

        ops |= {op_base_name(str(op)) for op in ATEN_OPS_MAPPING}
    return ops


def _why_uncounted(op: str) -> str:
    if op.startswith("PythonOp."):
        return (
            "a custom autograd Function, opaque to TorchScript: its arithmetic is invisible "
            "to this counter; classify it in irnext.cost.conventions once its content is known"
        )
    return (
        "no MAC formula is registered for this operator and it is in no not-counted class of "
        "irnext.cost.conventions; add a handle or classify it"
    )


def _uncounted(counter: str, seen: Counter, formulas: set[str]) -> list[dict[str, Any]]:
    return [
        {"counter": counter, "op": op, "calls": n, "why": _why_uncounted(op)}
        for op, n in sorted(seen.items())
        if op not in formulas and op not in NOT_COUNTED_CLASS
    ]


def _not_counted(seen: Counter) -> dict[str, list[str]]:
    classes: dict[str, list[str]] = {}
    for op in sorted(seen):
        if op in NOT_COUNTED_CLASS:
            classes.setdefault(NOT_COUNTED_CLASS[op], []).append(op)
    return classes


def _by_category(by_op: dict[str, int]) -> dict[str, int]:
    out: Counter[str] = Counter()
    for op, macs in by_op.items():
        out[_category(op) or op] += macs
    return dict(sorted(out.items()))


NOTES = {
    "convention": "MACs: one multiply-add = 1; biases, element-wise ops, activations, "
    "normalisation, pooling and reductions not counted (irnext.cost.conventions)",
    "fvcore": "fvcore's convolution and matrix-product handles; its normalisation and adaptive "
    "pooling handles removed; FFT, attention, unfold and interpolation handles added",
    "ptflops": "ptflops 'aten' backend; its convolution and addmm hooks (which add one MAC per "
    "output element for the bias) replaced by bias-free ones; FFT, attention, unfold, "
    "interpolation and baddbmm hooks added",
    "torch": "torch.utils.flop_counter.FlopCounterMode FLOPs / 2; FFT, CPU attention kernel, "
    "unfold and interpolation formulas added (torch has none for them)",
}


def count_macs(
    model: nn.Module,
    input_shape: Sequence[int],
    *,
    counters: Sequence[str] = COUNTERS,
) -> dict[str, Any]:
    """Parameters and MACs of one forward pass at `input_shape` (N, C, H, W), from each counter.

    Returns `params`, `macs_<counter>` for each counter asked, `macs_by_category` (torch's counter,
    by operator class), `uncounted_ops` (operators seen that no formula covers and no convention
    class excludes: expected empty), `not_counted_ops` (operators excluded by convention, by class),
    `max_relative_gap` between the counters, `devices` each counter ran on, and `notes`.
    """
    unknown = sorted(set(counters) - set(COUNTERS))
    if unknown or not counters:
        raise InputError(f"unknown counters {unknown}; choose from {', '.join(COUNTERS)}")
    if len(input_shape) != 4 or min(input_shape) < 1:
        raise InputError(f"input_shape {tuple(input_shape)} must be N, C, H, W with positive sizes")
    model = model.eval()
    record: dict[str, Any] = {"input_shape": list(input_shape), "params": count_params(model)}
    uncounted: list[dict[str, Any]] = []
    seen: Counter[str] = Counter()
    devices: dict[str, str] = {}
    for name in counters:
        if name == "fvcore":
            macs, unsupported = _count_fvcore(model, torch.rand(*input_shape))
            devices[name] = "cpu"  # TorchScript tracing does not run on meta tensors
            seen |= unsupported
            uncounted += _uncounted(name, unsupported, set())
            record["macs_fvcore"] = macs
            continue
        if name == "torch":
            (macs, calls, by_op), devices[name] = _meta_or_cpu(model, input_shape, _count_torch)
            record["macs_by_category"] = _by_category(by_op)
        else:
            (macs, calls), devices[name] = _meta_or_cpu(model, input_shape, _count_ptflops)
        seen |= calls
        uncounted += _uncounted(name, calls, _formula_ops(name))
        record[f"macs_{name}"] = macs
    totals = [record[f"macs_{name}"] for name in counters]
    record["max_relative_gap"] = (max(totals) - min(totals)) / max(max(totals), 1)
    record["uncounted_ops"] = uncounted
    record["not_counted_ops"] = _not_counted(seen)
    record["devices"] = devices
    record["notes"] = {k: v for k, v in NOTES.items() if k == "convention" or k in counters}
    return record
