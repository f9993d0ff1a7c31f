"""The fast inference mode stays within 1e-2 relative L2 of fp32 eager (CPU, tiny IRNeXt)."""

from __future__ import annotations

import pytest
import torch

from irnext.cost.fast import prepare_for_inference, relative_l2
from irnext.errors import InputError
from irnext.inference import forward_restored
from irnext.models.registry import create_model
from tests._eval_helpers import with_active_branches


@pytest.fixture(scope="module")
def tiny() -> tuple[torch.nn.Module, torch.Tensor, torch.Tensor]:
    torch.manual_seed(0)
    model = with_active_branches(create_model("irnext-test")).eval()
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        reference = forward_restored(model, x)
    return model, x, reference


def test_active_branches_make_the_dynamic_filter_reach_the_output(tiny) -> None:
    # With the official zero init the LAM is the identity; with active gates, the filter counts.
    import irnext.models.blocks as blocks

    model, x, reference = tiny
    original = blocks.apply_dynamic_filter
    blocks.apply_dynamic_filter = lambda x, kernels, dilation=1: torch.zeros_like(x)
    try:
        with torch.no_grad():
            changed = forward_restored(model, x)
    finally:
        blocks.apply_dynamic_filter = original
    assert relative_l2(changed, reference) > 1e-3


def test_relative_l2_of_known_vectors() -> None:
    assert relative_l2(torch.tensor([3.0, 4.0]), torch.tensor([3.0, 0.0])) == pytest.approx(4 / 3)


@pytest.mark.parametrize("autocast", [False, True])
def test_bf16_channels_last_stays_close_to_fp32_eager(tiny, autocast: bool) -> None:
    model, x, reference = tiny
    import copy

    fast = prepare_for_inference(copy.deepcopy(model), dtype="bf16", autocast=autocast)
    out = fast(x)
    assert out.dtype == torch.float32 and out.shape == reference.shape
    error = relative_l2(out, reference)
    assert 0 < error < 1e-2  # bf16 does change the numbers, but by less than 1 %


def test_fp32_channels_last_is_numerically_the_same(tiny) -> None:
    import copy

    model, x, reference = tiny
    fast = prepare_for_inference(copy.deepcopy(model), dtype="fp32", channels_last=True)
    assert relative_l2(fast(x), reference) < 1e-5


def test_cuda_graphs_need_a_cuda_example(tiny) -> None:
    with pytest.raises(InputError, match="CUDA"):
        prepare_for_inference(tiny[0], cuda_graphs=True, example_input=tiny[1])


@pytest.mark.slow
def test_compiled_bf16_stays_close_to_fp32_eager(tiny) -> None:
    # The graph capture and its bf16 numerics; inductor's kernels (minutes to build on 2 CPU
    # cores) are checked against fp32 eager by benchmarks/gpu_suite.py before any timing.
    import copy

    model, x, reference = tiny
    fast = prepare_for_inference(
        copy.deepcopy(model), dtype="bf16", compile=True, compile_backend="aot_eager"
    )
    assert relative_l2(fast(x), reference) < 1e-2


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_graph_replays_the_eager_forward_on_new_inputs(tiny) -> None:
    import copy

    model, x, _ = tiny
    model = copy.deepcopy(model).cuda()
    example, other = x.cuda(), torch.rand_like(x).cuda()
    eager = prepare_for_inference(copy.deepcopy(model), dtype="fp32", channels_last=False)
    graphed = prepare_for_inference(
        model, dtype="fp32", channels_last=False, cuda_graphs=True, example_input=example
    )
    # The graph copies each new input into its static buffer: replaying must follow the input.
    assert relative_l2(graphed(other), eager(other)) < 1e-5
    assert relative_l2(graphed(example), eager(example)) < 1e-5
