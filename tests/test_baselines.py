"""Baselines: paper parameter counts, forward passes, DehazeFormer, TLC and weight loading
(DehazeFormer against the official code: tests/test_dehazeformer.py)."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from irnext.errors import InputError
from irnext.inference import restore
from irnext.models.baselines import PUBLISHED_PARAMS_M, SpandrelBaseline, load_baseline_weights
from irnext.models.registry import create_model, model_entry
from irnext.models.tlc import LocalAvgPool2d, apply_tlc

# A 64-pixel forward of these takes seconds on two shared CPU cores.
SLOW = {"uformer-b", "mprnet-deblur", "fftformer", "restormer", "nafnet-w64", "dehazeformer-b"}


def _count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def _decimals(value: float) -> int:
    return len(repr(value).split(".")[1])


@pytest.mark.parametrize("name", sorted(PUBLISHED_PARAMS_M))
def test_baseline_parameter_count_matches_its_paper(name):
    published, _source = PUBLISHED_PARAMS_M[name]
    millions = _count(create_model(name)) / 1e6
    assert round(millions, _decimals(published)) == published


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(n, marks=pytest.mark.slow) if n in SLOW else n
        for n in [*PUBLISHED_PARAMS_M, "nafnet-w32", "dehazeformer-b"]
    ],
)
def test_baseline_restores_a_64_pixel_image_of_odd_shape(name):
    torch.manual_seed(0)
    model = create_model(name)
    image = torch.rand(1, 3, 64, 56)
    out = restore(model, image)
    assert out.shape == image.shape and torch.isfinite(out).all()
    entry = model_entry(name)
    assert entry.licence and entry.source


def test_every_baseline_names_licence_and_source():
    for name in [*PUBLISHED_PARAMS_M, "nafnet-w32", "dehazeformer-b"]:
        entry = model_entry(name)
        assert entry.licence in ("MIT",) or "non-commercial" in entry.licence
        assert "20" in entry.source  # the paper's year is cited


def test_square_padding_centres_the_image_and_crops_it_back():
    seen = []

    class Doubler(nn.Module):
        def forward(self, x):
            seen.append(tuple(x.shape[-2:]))
            return x * 2

    wrapper = SpandrelBaseline(net=Doubler(), square_multiple=128)
    image = torch.rand(1, 3, 130, 40)
    assert torch.equal(wrapper(image), image * 2)
    assert seen == [(256, 256)]


def test_dehazeformer_soft_reconstruction_is_identity_when_gain_and_offset_vanish():
    # Soft reconstruction J = K * I - B + I: with K = B = 0 the output is the input.
    model = create_model("dehazeformer-t").eval()
    head = model.patch_unembed.proj[0]  # the official name of the K/B head
    nn.init.zeros_(head.weight)
    nn.init.zeros_(head.bias)
    image = torch.rand(1, 3, 40, 52)
    assert torch.allclose(restore(model, image), image, atol=1e-6)


def _tiny_nafnet(**kw):
    from spandrel.architectures.NAFNet import NAFNet

    return SpandrelBaseline(
        net=NAFNet(width=8, middle_blk_num=1, enc_blk_nums=[1, 1], dec_blk_nums=[1, 1], **kw),
        size_multiple=4,
    )


def test_local_pool_equals_sliding_mean_inside_and_global_mean_when_the_window_covers():
    x = torch.rand(2, 3, 20, 17)
    local = LocalAvgPool2d(kernel_size=(6, 5))(x)
    sliding = F.avg_pool2d(x, (6, 5), stride=1)
    assert local.shape == x.shape
    assert torch.allclose(local[..., 2:17, 2:15], sliding, atol=1e-5)
    whole = LocalAvgPool2d(kernel_size=(20, 17))(x)
    assert torch.allclose(whole, x.mean(dim=(2, 3), keepdim=True))


def test_tlc_equals_the_plain_model_below_its_window_and_differs_above():
    torch.manual_seed(0)
    plain = _tiny_nafnet().eval()
    converted = apply_tlc(_tiny_nafnet().eval(), train_size=32)
    converted.load_state_dict(plain.state_dict())
    for net in (plain, converted):  # NAFNet starts as identity (beta = gamma = 0); perturb it
        torch.manual_seed(1)
        for p in net.parameters():
            p.data.add_(0.1 * torch.randn_like(p))
    small, large = torch.rand(1, 3, 48, 48), torch.rand(1, 3, 96, 80)
    assert torch.allclose(restore(plain, small), restore(converted, small), atol=1e-6)
    assert (restore(plain, large) - restore(converted, large)).abs().max() > 1e-4


def test_tlc_windows_are_one_and_a_half_times_the_training_extent():
    model = create_model("nafnet-w32", tlc=True, tlc_train_size=64)
    kernels = {m.kernel_size for m in model.modules() if isinstance(m, LocalAvgPool2d)}
    # Feature sides at a 64-pixel training crop: 64, 32, 16, 8 and 4 in the middle.
    assert kernels == {(96, 96), (48, 48), (24, 24), (12, 12), (6, 6)}
    assert model.irnext_spec["kwargs"]["tlc"] is True


# Narrow versions of the registered configurations keep the files small; detection reads
# every hyper-parameter from the keys and shapes either way.
NARROW = {
    "mprnet-derain": {"n_feat": 16, "scale_unetfeats": 8, "scale_orsnetfeats": 8},
    "nafnet-w32": {"width": 8, "enc_blk_nums": [1, 2], "dec_blk_nums": [1, 1]},
}


@pytest.mark.parametrize("name", sorted(NARROW))
def test_official_weights_round_trip_through_spandrel_detection(name, tmp_path):
    torch.manual_seed(0)
    built = create_model(name, **NARROW[name]).eval()
    path = tmp_path / f"{name}.pth"
    torch.save({"params": built.net.state_dict()}, path)  # official files nest under a key
    loaded = load_baseline_weights(path)
    assert _count(loaded) == _count(built)
    image = torch.rand(1, 3, 32, 40)
    assert torch.equal(restore(loaded, image), restore(built, image))


def test_loading_unsupported_or_missing_weights_raises_input_error(tmp_path):
    path = tmp_path / "not_a_baseline.pth"
    torch.save({"conv.weight": torch.zeros(1, 1, 3, 3)}, path)
    with pytest.raises(InputError, match="not_a_baseline.pth"):
        load_baseline_weights(path)
    with pytest.raises(InputError, match="do not exist"):
        load_baseline_weights(tmp_path / "missing.pth")
