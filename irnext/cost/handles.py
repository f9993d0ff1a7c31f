"""MAC formulas for the operators the counters miss, and their adapters for each counter.

The formulas take shapes and return MACs under the convention of `irnext.cost.conventions`. Two
adapters expose them: `dispatch_handles()` for counters that see aten operators at dispatch level
(torch's `FlopCounterMode` calls them with tensor shapes; ptflops' aten backend with tensors) and
`fvcore_handles()` for fvcore, which sees the TorchScript trace (`aten::fft_rfft2`, not
`aten::_fft_r2c`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import torch

from irnext.cost.conventions import INTERPOLATION_MACS_PER_OUTPUT

Shape = Sequence[int]


def _numel(shape: Shape) -> int:
    return math.prod(int(s) for s in shape)


def fft_macs(signal_shape: Shape, dims: Sequence[int], *, real: bool) -> int:
    """MACs of an FFT over `dims` of a tensor whose full-length (real-side) shape is given.

    2.5 N log2 N per complex transform of N points (5 N log2 N flops, FFTW's convention), half for
    a real-input or real-output one; multiplied by the number of independent transforms.
    """
    n = _numel([signal_shape[d] for d in dims])
    transforms = _numel(signal_shape) // max(n, 1)
    per_transform = 2.5 * n * math.log2(n) if n > 1 else 0.0
    return round(transforms * per_transform * (0.5 if real else 1.0))


def attention_macs(query: Shape, key: Shape, value: Shape) -> int:
    """Q K^T (L x E by E x S) plus A V (L x S by S x Ev), for every batch and head."""
    *batch, length, embed = query
    source, value_embed = key[-2], value[-1]
    return _numel(batch) * length * source * (embed + value_embed)


def conv_macs(x: Shape, weight: Shape, out: Shape, *, transposed: bool) -> int:
    """Kernel MACs without bias: weight numel per output (or, transposed, per input) position."""
    positions = x[2:] if transposed else out[2:]
    return int(x[0]) * _numel(weight) * _numel(positions)


# --- dispatch level (torch FlopCounterMode: arguments arrive as shapes) -----------------------


def _fft_r2c(x: Shape, dim: Sequence[int], *args: Any, out_shape: Shape, **kwargs: Any) -> int:
    return fft_macs(x, dim, real=True)


def _fft_c2r(x: Shape, dim: Sequence[int], *args: Any, out_shape: Shape, **kwargs: Any) -> int:
    return fft_macs(out_shape, dim, real=True)


def _fft_c2c(x: Shape, dim: Sequence[int], *args: Any, out_shape: Shape, **kwargs: Any) -> int:
    return fft_macs(out_shape, dim, real=False)


def _sdpa(query: Shape, key: Shape, value: Shape, *args: Any, out_shape: Any, **kwargs: Any) -> int:
    return attention_macs(query, key, value)


def _per_output(macs: int) -> Callable[..., int]:
    def handle(*args: Any, out_shape: Shape, **kwargs: Any) -> int:
        return macs * _numel(out_shape)

    return handle


def _im2col(*args: Any, out_shape: Shape, **kwargs: Any) -> int:
    return _numel(out_shape)


def _convolution(x: Shape, w: Shape, bias: Any, *args: Any, out_shape: Shape, **kw: Any) -> int:
    transposed = bool(args[3]) if len(args) > 3 else False
    return conv_macs(x, w, out_shape, transposed=transposed)


def _addmm(bias: Any, a: Shape, b: Shape, *args: Any, out_shape: Shape, **kwargs: Any) -> int:
    return int(a[0]) * int(a[1]) * int(b[1])


def _bmm(a: Shape, b: Shape, *args: Any, out_shape: Shape, **kwargs: Any) -> int:
    return _numel(a) * int(b[-1])


def _baddbmm(bias: Any, a: Shape, b: Shape, *args: Any, out_shape: Shape, **kwargs: Any) -> int:
    return _numel(a) * int(b[-1])


_SDPA_OPS = (
    "_scaled_dot_product_flash_attention_for_cpu",
    "_scaled_dot_product_flash_attention",
    "_scaled_dot_product_efficient_attention",
    "_scaled_dot_product_cudnn_attention",
    "_scaled_dot_product_fused_attention_overrideable",
)


def dispatch_handles(*, matmul_and_conv: bool = False) -> dict[Any, Callable[..., int]]:
    """aten overload packet -> handle(*arg_shapes, out_shape=...) for the dispatch-level counters.

    `matmul_and_conv` adds bias-free convolution and matrix-product handles, for counters whose own
    (ptflops' aten backend adds one MAC per output element for the bias) differ from fvcore's and
    torch's.
    """
    aten = torch.ops.aten
    table: dict[str, Callable[..., int]] = {
        "_fft_r2c": _fft_r2c,
        "_fft_c2r": _fft_c2r,
        "_fft_c2c": _fft_c2c,
        "im2col": _im2col,
        **{name: _sdpa for name in _SDPA_OPS},
        **{name: _per_output(m) for name, m in INTERPOLATION_MACS_PER_OUTPUT.items()},
    }
    if matmul_and_conv:
        table.update(
            convolution=_convolution,
            _convolution=_convolution,
            addmm=_addmm,
            mm=_bmm,
            bmm=_bmm,
            baddbmm=_baddbmm,
        )
    return {getattr(aten, name): fn for name, fn in table.items() if hasattr(aten, name)}


def with_tensor_arguments(handle: Callable[..., int]) -> Callable[[tuple, tuple], int]:
    """Adapt a shape handle to ptflops' aten hook signature `hook(args, outputs)`."""

    def hook(args: tuple, outputs: tuple) -> int:
        shapes = [tuple(a.shape) if isinstance(a, torch.Tensor) else a for a in args]
        out = outputs[0]
        return handle(*shapes, out_shape=tuple(out.shape) if isinstance(out, torch.Tensor) else ())

    return hook


# --- TorchScript level (fvcore: arguments arrive as torch._C.Value) ---------------------------

# fvcore's own handles kept: its convolution and matrix-product formulas are the reference the
# other counters are checked against. Its normalisation and pooling handles are dropped (see
# conventions) and its interpolation handles are replaced by ours (same constants, more modes).
FVCORE_NATIVE_OPS = (
    "aten::_convolution",
    "aten::addmm",
    "aten::bmm",
    "aten::einsum",
    "aten::matmul",
    "aten::mm",
    "aten::linear",
)


def _jit_shape(value: Any) -> tuple[int, ...] | None:
    return tuple(value.type().sizes()) if value.isCompleteTensor() else None


def _jit_const(value: Any) -> Any:
    return value.toIValue()


def _fvcore_fft(name: str) -> Callable[[list, list], int]:
    """Handle for `aten::fft_<kind>` (1-D, 2-D or n-D, forward or inverse, real or complex)."""
    kind = name.removeprefix("aten::fft_")
    ndim = "n" if kind.endswith("n") else ("2" if kind.endswith("2") else "1")
    real_in = kind.startswith(("rfft", "ihfft"))
    real_out = kind.startswith(("irfft", "hfft"))

    def handle(inputs: list, outputs: list) -> int:
        size, dim = _jit_const(inputs[1]), _jit_const(inputs[2])
        x, out = _jit_shape(inputs[0]), _jit_shape(outputs[0])
        if ndim == "1":
            dims = [dim if dim is not None else -1]
        elif ndim == "2":
            dims = list(dim) if dim is not None else [-2, -1]
        else:
            rank = len(x)
            dims = list(dim) if dim is not None else list(range(rank - len(size or x), rank))
        if real_in:
            shape = list(x)
            for d, s in zip(dims, [size] if ndim == "1" and size else (size or [])):
                shape[d] = s
            return fft_macs(shape, dims, real=True)
        return fft_macs(out, dims, real=real_out)

    return handle


def _fvcore_sdpa(inputs: list, outputs: list) -> int:
    return attention_macs(*(_jit_shape(v) for v in inputs[:3]))


def _fvcore_per_output(macs: int) -> Callable[[list, list], int]:
    def handle(inputs: list, outputs: list) -> int:
        return macs * _numel(_jit_shape(outputs[0]))

    return handle


_FFT_KINDS = ("fft", "ifft", "rfft", "irfft", "hfft", "ihfft")


def fvcore_handles() -> dict[str, Callable[[list, list], int]]:
    """TorchScript op name -> fvcore handle, for the operators fvcore does not count itself."""
    fft_names = [f"aten::fft_{k}{d}" for k in _FFT_KINDS for d in ("", "2", "n")]
    return {
        **{name: _fvcore_fft(name) for name in fft_names},
        "aten::scaled_dot_product_attention": _fvcore_sdpa,
        "aten::im2col": _fvcore_per_output(1),
        **{f"aten::{n}": _fvcore_per_output(m) for n, m in INTERPOLATION_MACS_PER_OUTPUT.items()},
    }
