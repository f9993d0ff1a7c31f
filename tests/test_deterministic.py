"""The deterministic-backward forms of padding and bilinear resizing equal torch's operators.

torch's F.pad and F.interpolate are the reference: values and gradients of the composed forms
(slices, flips, concatenations, matrix products) must match them, and the models must give the
same outputs and gradients whichever form runs.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from irnext.models import deterministic
from irnext.models.deterministic import pad2d_composed, resize_bilinear_composed
from irnext.models.registry import create_model


def _grads(fn, x):
    out = fn(x)
    probe = torch.randn(out.shape, generator=torch.Generator().manual_seed(1), dtype=out.dtype)
    (grad,) = torch.autograd.grad(out, x, probe)
    return out, grad


@pytest.mark.parametrize("mode", ["reflect", "replicate"])
@pytest.mark.parametrize(
    ("shape", "pads"),
    [((2, 3, 5, 7), (1, 1, 1, 1)), ((1, 2, 4, 4), (0, 3, 2, 1)), ((1, 1, 9, 3), (2, 2, 0, 1))],
)
def test_padding_equals_f_pad(mode, shape, pads):
    x = torch.randn(shape, dtype=torch.float64, requires_grad=True)
    ours, ours_grad = _grads(lambda t: pad2d_composed(t, pads, mode), x)
    theirs, theirs_grad = _grads(lambda t: F.pad(t, pads, mode=mode), x)
    torch.testing.assert_close(ours, theirs, rtol=0, atol=1e-12)
    torch.testing.assert_close(ours_grad, theirs_grad, rtol=0, atol=1e-12)


def test_reflection_wider_than_the_side_is_refused():
    with pytest.raises(ValueError, match="below the side"):
        pad2d_composed(torch.zeros(1, 1, 3, 3), (3, 0, 0, 0), "reflect")


@pytest.mark.parametrize("align_corners", [True, False])
@pytest.mark.parametrize(
    ("size_in", "size_out"),
    [((4, 6), (8, 12)), ((3, 5), (7, 2)), ((1, 1), (4, 4)), ((8, 8), (1, 1)), ((5, 5), (5, 5))],
)
def test_bilinear_resize_equals_interpolate(align_corners, size_in, size_out):
    x = torch.randn(2, 3, *size_in, dtype=torch.float64, requires_grad=True)
    ours, ours_grad = _grads(
        lambda t: resize_bilinear_composed(t, size_out, align_corners=align_corners), x
    )
    theirs, theirs_grad = _grads(
        lambda t: F.interpolate(t, size=size_out, mode="bilinear", align_corners=align_corners),
        x,
    )
    torch.testing.assert_close(ours, theirs, rtol=0, atol=1e-12)
    torch.testing.assert_close(ours_grad, theirs_grad, rtol=0, atol=1e-12)


def test_cpu_keeps_the_native_operators_under_deterministic_mode():
    # The composed forms are for CUDA only: on CPU the outputs stay bit for bit torch's.
    x = torch.randn(1, 2, 6, 6)
    was = torch.are_deterministic_algorithms_enabled()
    torch.use_deterministic_algorithms(True)
    try:
        padded = deterministic.pad2d(x, (1, 1, 1, 1), "reflect")
        resized = deterministic.resize_bilinear(x, (12, 12), align_corners=True)
    finally:
        torch.use_deterministic_algorithms(was)
    assert torch.equal(padded, F.pad(x, (1, 1, 1, 1), mode="reflect"))
    assert torch.equal(
        resized, F.interpolate(x, size=(12, 12), mode="bilinear", align_corners=True)
    )


@pytest.mark.parametrize(
    ("name", "kwargs", "side"),
    [
        ("irnext-test", {}, 64),
        ("irnext-test", {"upsample": "bilinear"}, 64),
        ("dehazeformer-t", {}, 20),  # 20 px: the replicated padding of the coarse windows
    ],
)
def test_models_are_unchanged_by_the_composed_forms(monkeypatch, name, kwargs, side):
    torch.manual_seed(0)
    model = create_model(name, **kwargs).double().train()
    x = torch.rand(2, 3, side, side, dtype=torch.float64, requires_grad=True)

    def run():
        out = model(x)
        out = out[-1] if isinstance(out, list) else out
        (grad,) = torch.autograd.grad(out.square().sum(), x)
        return out.detach(), grad

    native = run()
    monkeypatch.setattr(deterministic, "_composed", lambda t: True)
    composed = run()
    for ours, theirs in zip(composed, native):
        torch.testing.assert_close(ours, theirs, rtol=1e-9, atol=1e-10)
