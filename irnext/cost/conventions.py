"""What this suite counts as a multiply-accumulate (MAC), and what it deliberately does not.

Papers of the field report "FLOPs" at 1x3x256x256 that are multiply-accumulates, each from a
different counter with its own blind spots (docs/protocols.md#cost-conventions). This
suite counts one convention with three independent counters (fvcore's TorchScript trace,
ptflops' aten dispatch backend, torch's `FlopCounterMode`) and registers the same handles in
each, so they agree and any operator none of them knows is named instead of silently costing
zero.

Counted (MACs; one multiply-add = one MAC, biases not counted, as fvcore and torch do):
- convolutions, transposed and grouped ones included (the IRNeXt dynamic filter in its fast form is
  a depthwise convolution with groups = batch * channels, so it is counted as one);
- matrix products (mm, bmm, addmm, baddbmm, matmul, linear, einsum);
- attention kernels (`scaled_dot_product_attention`): Q K^T and A V, B*H*L*S*(E + Ev), dense even
  where a causal mask would let a kernel skip blocks;
- FFTs: a complex FFT of N points costs 5 N log2 N real flops (the operation count of radix-2
  Cooley-Tukey that the FFTW benchmark uses to report "mflops", fftw.org/speed/method.html), i.e.
  2.5 N log2 N MACs at two flops per MAC; a real-input or real-output FFT costs half. For a
  multi-dimensional FFT N is the product of the transformed sizes (row-column passes sum to the
  same N log2 N);
- `F.unfold` (im2col): one MAC per unfolded element, standing for the multiply + sum it feeds (the
  official IRNeXt dynamic filter: unfold, multiply by the kernel, sum over the window);
- interpolation, per output element: nearest 1 (fvcore's constant), linear 2, bilinear 4 (fvcore's
  constant), trilinear 8, bicubic 16 (a weighted sum of 2^d or 4^d neighbours); grid sampling 4.

Not counted, by convention (memory-bound, O(1) per element; no paper's MAC figure includes them):
element-wise arithmetic, activations, softmax, normalisation layers, pooling and reductions, and
pure data movement. fvcore counts normalisation layers and adaptive average pooling by default; its
handles for them are removed here so that all three counters share one convention. Each record
lists the operators seen in these classes under `not_counted_ops`.
"""

from __future__ import annotations

# Interpolation operator -> MACs per output element (see the module docstring).
INTERPOLATION_MACS_PER_OUTPUT = {
    "upsample_nearest1d": 1,
    "upsample_nearest2d": 1,
    "upsample_nearest3d": 1,
    "_upsample_nearest_exact1d": 1,
    "_upsample_nearest_exact2d": 1,
    "_upsample_nearest_exact3d": 1,
    "upsample_linear1d": 2,
    "upsample_bilinear2d": 4,
    "_upsample_bilinear2d_aa": 4,
    "upsample_trilinear3d": 8,
    "upsample_bicubic2d": 16,
    "_upsample_bicubic2d_aa": 16,
    "grid_sampler": 4,
    "grid_sampler_2d": 4,
}

# Operators excluded from MACs by convention, by class; a model's operators outside these classes
# and outside the counted ones are reported as `uncounted_ops`.
NOT_COUNTED = {
    "elementwise": {
        "add",
        "sub",
        "rsub",
        "mul",
        "div",
        "pow",
        "sqrt",
        "rsqrt",
        "neg",
        "abs",
        "exp",
        "log",
        "reciprocal",
        "clamp",
        "clamp_min",
        "clamp_max",
        "where",
        "maximum",
        "minimum",
        "sign",
        "floor",
        "ceil",
        "round",
        "lerp",
        "addcmul",
        "addcdiv",
        "masked_fill",
        "eq",
        "ne",
        "gt",
        "lt",
        "ge",
        "le",
        "logical_and",
        "logical_or",
        "logical_not",
        "bitwise_not",
        "__and__",
        "remainder",
        "floor_divide",
        "fill",
        "zero",
        "square",
        "sin",
        "cos",
        "atan2",
        "angle",
        "erf",
        "frac",
        "trunc",
        "fmod",
        "mul_scalar",
        "add_scalar",
    },
    "activation": {
        "gelu",
        "relu",
        "leaky_relu",
        "prelu",
        "_prelu_kernel",
        "sigmoid",
        "tanh",
        "silu",
        "elu",
        "hardtanh",
        "hardswish",
        "hardsigmoid",
        "softplus",
        "mish",
        "threshold",
        "relu6",
        "glu",
        "softmax",
        "_softmax",
        "log_softmax",
        "_log_softmax",
        "_safe_softmax",
    },
    "normalisation": {
        "batch_norm",
        "native_batch_norm",
        "_native_batch_norm_legit",
        "_native_batch_norm_legit_no_training",
        "_native_batch_norm_legit_functional",
        "layer_norm",
        "native_layer_norm",
        "group_norm",
        "native_group_norm",
        "instance_norm",
        # NAFNet's LayerNorm2d is a custom autograd Function that TorchScript sees as opaque; at
        # dispatch level it is mean, sub, pow, sqrt, div (element-wise and reductions).
        "PythonOp.LayerNormFunction",
    },
    "pooling_and_reduction": {
        "mean",
        "sum",
        "var",
        "std",
        "var_mean",
        "std_mean",
        "amax",
        "amin",
        "max",
        "min",
        "norm",
        "linalg_vector_norm",
        "avg_pool1d",
        "avg_pool2d",
        "avg_pool3d",
        "adaptive_avg_pool1d",
        "adaptive_avg_pool2d",
        "_adaptive_avg_pool2d",
        "max_pool2d",
        "max_pool2d_with_indices",
        "adaptive_max_pool2d",
        "logsumexp",
        "cumsum",
        "argmax",
        "topk",
    },
    "data_movement": {
        "view",
        "_unsafe_view",
        "reshape",
        "_reshape_alias",
        "permute",
        "transpose",
        "t",
        "expand",
        "expand_as",
        "contiguous",
        "clone",
        "copy",
        "cat",
        "stack",
        "split",
        "split_with_sizes",
        "chunk",
        "unbind",
        "slice",
        "select",
        "narrow",
        "index",
        "index_select",
        "gather",
        "scatter",
        "squeeze",
        "unsqueeze",
        "flatten",
        "unflatten",
        "roll",
        "flip",
        "pad",
        "constant_pad_nd",
        "reflection_pad1d",
        "reflection_pad2d",
        "replication_pad2d",
        "pixel_shuffle",
        "pixel_unshuffle",
        "repeat",
        "alias",
        "detach",
        "to",
        "_to_copy",
        "empty",
        "empty_like",
        "empty_strided",
        "zeros",
        "zeros_like",
        "ones",
        "ones_like",
        "full",
        "full_like",
        "arange",
        "new_empty",
        "new_zeros",
        "new_ones",
        "new_full",
        "lift_fresh",
        "lift_fresh_copy",
        "type_as",
        "view_as_real",
        "view_as_complex",
        "real",
        "imag",
        "complex",
        "as_strided",
        "unfold_copy",
        "dropout",
        "Int",
        "ScalarImplicit",
        "size",
        "numel",
        "item",
        "_local_scalar_dense",
        "scalar_tensor",
        "linspace",
        "meshgrid",
        "masked_select",
        "repeat_interleave",
        "tile",
        "col2im",
        "fold",
        "view_as",
        "_assert_tensor_metadata",
        "resolve_conj",
        "resolve_neg",
        "dim",
        "im2col_backward",
    },
}
NOT_COUNTED_CLASS = {name: cls for cls, names in NOT_COUNTED.items() for name in names}


def op_base_name(name: str) -> str:
    """`aten::mul_`, `aten.mul` and `aten.mul.Tensor` -> `mul`; `prim::PythonOp.X` -> `PythonOp.X`.

    In-place variants share their operator's class; overload suffixes carry no cost meaning.
    """
    if name.startswith("prim::"):
        return name.split("::", 1)[1]
    name = name.split("::", 1)[1] if "::" in name else name
    if name.startswith("aten."):
        name = name[len("aten.") :].split(".", 1)[0]
    return name[:-1] if name.endswith("_") and not name.endswith("__") else name
