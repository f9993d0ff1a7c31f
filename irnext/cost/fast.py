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

import torch
from torch import nn

from irnext.cost.latency import DTYPES
from irnext.errors import InputError
from irnext.inference import forward_restored
from irnext.precisions import check_precision

Forward = Callable[[torch.Tensor], torch.Tensor]


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
    check_precision(dtype)
    model = model.eval().requires_grad_(False)
    weights_dtype = torch.float32 if autocast else DTYPES[dtype]
    model = model.to(weights_dtype)
    layout = torch.channels_last if channels_last else torch.contiguous_format
    model = model.to(memory_format=layout)
    mode = None if compile is True else compile
    net = torch.compile(model, mode=mode, backend=compile_backend) if compile else model
    use_autocast = autocast and dtype == "bf16"

    def forward(x: torch.Tensor) -> torch.Tensor:
        x = x.to(dtype=weights_dtype, memory_format=layout)
        with torch.no_grad(), torch.autocast(x.device.type, torch.bfloat16, enabled=use_autocast):
            return forward_restored(net, x).float()

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
