"""bf16 evaluation's fp32 islands: which layers they are, that they run in fp32 under autocast,
and that they remove the error a normalised bf16 convolution makes (fp32 eager is the
reference)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from irnext.evaluation.precision import float32_islands, fp32_islands
from irnext.models.registry import create_model


def _toy() -> nn.Sequential:
    """Pixels in, a conv whose channels have a mean far above their spread, InstanceNorm, a wide
    body and pixels out: the shape of IRNeXt's SCM followed by a network."""
    net = nn.Sequential(
        nn.Conv2d(3, 16, 3, padding=1),
        nn.ReLU(),
        nn.Sequential(nn.Conv2d(16, 16, 1)),
        nn.InstanceNorm2d(16, affine=True),
        nn.Conv2d(16, 16, 3, padding=1),
        nn.Linear(16, 16),  # over the width axis: any linear layer counts
        nn.Conv2d(16, 3, 3, padding=1),
    )
    torch.manual_seed(0)
    with torch.no_grad():
        net[2][0].bias.fill_(200.0)  # channel mean ~200, spread ~1: bf16 rounds by ~0.4
    return net.eval()


def test_islands_are_the_pixel_layers_and_every_normalised_convolution() -> None:
    assert fp32_islands(_toy()) == ["0", "6", "2.0", "3"]
    # IRNeXt (docs/network.md): the stem and the full-scale tail read and write pixels, the two
    # side outputs write the 1/2 and 1/4 images, each SCM reads its scaled image and ends in
    # conv -> InstanceNorm. irnext-test's SCM at 1/2 scale has a 4-channel first 1x1 conv.
    names = fp32_islands(create_model("irnext-test"))
    expected = {"stem.0", "tail.0", "side_outputs.0.0", "side_outputs.1.0"}
    for level in (0, 1):
        expected |= {f"shallow.{level}.0.0", f"shallow.{level}.3.0", f"shallow.{level}.4"}
    assert expected <= set(names) and set(names) - expected == {"shallow.0.1.0"}


def test_islands_run_in_fp32_under_autocast_and_are_restored_after() -> None:
    net = _toy()
    seen = {}
    for name in ("0", "4", "6"):
        net.get_submodule(name).register_forward_hook(
            lambda module, args, out, name=name: seen.update({name: out.dtype})
        )
    x = torch.rand(1, 3, 16, 16)
    with float32_islands(net, fp32_islands(net)), torch.autocast("cpu", dtype=torch.bfloat16):
        net(x)
    assert seen == {"0": torch.float32, "4": torch.bfloat16, "6": torch.float32}
    assert not any("forward" in vars(module) for module in net.modules())
    with pytest.raises(RuntimeError, match="boom"), float32_islands(net, ["0"]):
        raise RuntimeError("boom")
    assert "forward" not in vars(net[0])  # restored after an error as well


def test_islands_remove_the_error_of_a_normalised_bf16_convolution() -> None:
    net = _toy()
    x = torch.rand(2, 3, 16, 16)  # the linear layer acts on the 16-pixel width
    with torch.no_grad():
        reference = net(x)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            plain = net(x).float()
            with float32_islands(net, fp32_islands(net)):
                islands = net(x).float()
    spread = reference.std().item()
    plain_error = (plain - reference).abs().max().item() / spread
    islands_error = (islands - reference).abs().max().item() / spread
    # Rounding ~200 to bf16's 8 bits moves it by up to 0.5, half the channel's spread, and the
    # norm scales that up to the output (3.5x its spread measured); with the islands only the
    # body's two bf16 layers round, by 2^-9 of their values each (1.2 % measured).
    assert plain_error > 1.0 and islands_error < 0.05
