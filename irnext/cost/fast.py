"""The fastest inference mode of a restoration network, and how far its outputs move.

`prepare_for_inference` stacks the levers of the fast-IRNeXt study (benchmarks/NOTES.md records the
prediction and the measured effect of each): eval mode without autograd, bf16 weights (or bf16
autocast), channels_last memory layout (cuDNN's NHWC kernels, no layout transposes around
convolutions), `torch.compile` (fuses IRNeXt's element-wise tails: GELU, the LAM's frequency
modulation, residual adds) and CUDA graphs (one launch for a network of ~600 small kernels, whose
latency at 256x256 is launch-bound). It returns a callable taking an fp32 N x C x H x W image
batch and returning the full-scale fp32 output; `relative_l2` measures the departure from fp32
eager.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from irnext.cost.latency import PRECISIONS
from irnext.errors import InputError

Forward = Callable[[torch.Tensor], torch.Tensor]


def final_output(out: Any) -> torch.Tensor:
    """The restored image of a model returning one tensor or a list of scales (coarse to fine)."""
    return out[-1] if isinstance(out, (list, tuple)) else out


def prepare_for_inference(
    model: nn.Module,
    *,
    dtype: str = "bf16",
    autocast: bool = False,
    channels_last: bool = True,
    compile: bool | str = False,
    cuda_graphs: bool = False,
    example_input: torch.Tensor | None = None,
    compile_backend: str = "inductor",
) -> Forward:
    """An inference function for `model` with the chosen levers.

    dtype "bf16" converts the weights to bf16 (or, with `autocast`, keeps fp32 weights and runs
    under bf16 autocast). compile: False, True (default mode) or a torch.compile mode, e.g.
    "max-autotune-no-cudagraphs". cuda_graphs captures the whole call for the shape and device of
    `example_input` (required then); later inputs must have that shape. compile_backend
    "aot_eager" traces the graph without generating kernels (fast; for tests on small CPUs).
    """
    if dtype not in PRECISIONS:
        raise InputError(f"dtype '{dtype}' is not one of {', '.join(PRECISIONS)}")
    model = model.eval().requires_grad_(False)
    weights_dtype = torch.float32 if autocast else PRECISIONS[dtype]
    model = model.to(weights_dtype)
    layout = torch.channels_last if channels_last else torch.contiguous_format
    model = model.to(memory_format=layout)
    mode = None if compile is True else compile
    net = torch.compile(model, mode=mode, backend=compile_backend) if compile else model
    use_autocast = autocast and dtype == "bf16"

    def forward(x: torch.Tensor) -> torch.Tensor:
        x = x.to(dtype=weights_dtype, memory_format=layout)
        with torch.no_grad(), torch.autocast(x.device.type, torch.bfloat16, enabled=use_autocast):
            return final_output(net(x)).float()

    if not cuda_graphs:
        return forward
    if example_input is None or example_input.device.type != "cuda":
        raise InputError("cuda_graphs=True needs example_input on a CUDA device (shape to capture)")
    return capture_cuda_graph(forward, example_input)


def capture_cuda_graph(forward: Forward, example: torch.Tensor) -> Forward:
    """Capture `forward` once for `example`'s shape; each call copies in, replays, returns out."""
    static_in = example.clone()
    stream = torch.cuda.Stream()
    stream.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(stream):  # warm-up on a side stream, as capture requires
        for _ in range(3):
            forward(static_in)
    torch.cuda.current_stream().wait_stream(stream)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        static_out = forward(static_in)

    def replay(x: torch.Tensor) -> torch.Tensor:
        if x.shape != static_in.shape:
            raise InputError(
                f"input shape {tuple(x.shape)} differs from the captured "
                f"{tuple(static_in.shape)}; prepare again for a new shape"
            )
        static_in.copy_(x)
        graph.replay()
        return static_out

    return replay


def relative_l2(output: torch.Tensor, reference: torch.Tensor) -> float:
    """||output - reference|| / ||reference||, in fp32."""
    reference = reference.float()
    return float(
        torch.linalg.vector_norm(output.float() - reference) / torch.linalg.vector_norm(reference)
    )


def with_active_branches(model: nn.Module, *, seed: int = 0, std: float = 0.5) -> nn.Module:
    """Give all-zero parameters (the LAM gates; norm biases) random values, in place.

    A freshly built IRNeXt's LAM is the identity (W, lambda_l and lambda_h start at zero, official
    init), so its filter cannot change the output and a numerics check of an untrained model
    would not see it. Trained weights are not available to the tests and the GPU suite.
    """
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for parameter in model.parameters():
            if parameter.numel() and not parameter.any():
                noise = torch.randn(parameter.shape, generator=generator) * std
                parameter.copy_(noise.to(parameter.device, parameter.dtype))
    return model
