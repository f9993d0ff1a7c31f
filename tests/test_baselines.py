"""Baselines: paper parameter counts, forward passes, DehazeFormer, TLC and weight loading
(DehazeFormer against the official code: tests/test_dehazeformer.py)."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from irnext.cost.complexity import build_for_counting
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


# Each baseline's paper: (first author, venue and year), from the papers themselves.
PAPERS = {
    "restormer": ("Zamir", "CVPR 2022"),
    "nafnet": ("Chen", "ECCV 2022"),
    "uformer": ("Wang", "CVPR 2022"),
    "mprnet": ("Zamir", "CVPR 2021"),
    "fftformer": ("Kong", "CVPR 2023"),
    "dehazeformer": ("Song", "TIP 2023"),
}
NON_COMMERCIAL = "non-commercial academic licence (official repository)"


@pytest.mark.parametrize("name", [*PUBLISHED_PARAMS_M, "nafnet-w32", "dehazeformer-b"])
def test_every_baseline_names_licence_and_source(name):
    entry = model_entry(name)
    author, venue = PAPERS[entry.architecture]
    assert entry.source.startswith(f"{author} et al., {venue}; official ")
    model = build_for_counting(name)  # on meta where it can: no weights needed here
    if isinstance(model, SpandrelBaseline):
        # spandrel-extra-arches holds exactly the architectures "with restrictive licenses"
        # (its package description); spandrel itself, the permissively licensed ones.
        restrictive = type(model.net).__module__.startswith("spandrel_extra_arches.")
        assert entry.licence == (NON_COMMERCIAL if restrictive else "MIT"), entry.licence
    else:
        assert entry.licence == "MIT"  # DehazeFormer's official repository (IDKiro/DehazeFormer)


SPANDREL_BASELINES = ["restormer", "nafnet-w64", "nafnet-w32", "uformer-b", "mprnet-deblur"]
SPANDREL_BASELINES += ["mprnet-derain", "fftformer"]


def _spandrel_descriptor(net: nn.Module):
    """spandrel's own descriptor of `net`, detected from its state_dict (shapes only, on meta
    where the network was built there)."""
    import spandrel
    import spandrel_extra_arches

    spandrel_extra_arches.install(ignore_duplicates=True)
    state = net.state_dict()
    device = next(iter(state.values())).device
    with torch.device(device):
        return spandrel.MAIN_REGISTRY.load(state)  # detection, as ModelLoader runs it


class _SizeRecorder(nn.Module):
    """Stands in for a network: records the size it is given and returns the image (as the
    first of three stage outputs where the wrapper expects MPRNet's list)."""

    def __init__(self, stages: bool):
        super().__init__()
        self.stages, self.seen = stages, []

    def forward(self, x):
        self.seen.append(tuple(x.shape[-2:]))
        return [x, x * 0, x * 0] if self.stages else x


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(n, marks=pytest.mark.slow) if n == "uformer-b" else n
        for n in SPANDREL_BASELINES
    ],
)
def test_baseline_padding_is_spandrels_and_restores_odd_sizes_whole(name):
    model = build_for_counting(name)  # meta where it can: only the shapes are needed
    descriptor = _spandrel_descriptor(model.net)
    requirements = descriptor.size_requirements
    if descriptor.architecture.id == "NAFNet":
        # spandrel states nothing: the network pads itself to 2 ** levels (official
        # NAFNet_arch.py check_image_size); the GoPro models have four levels.
        assert requirements.none and model.net.padder_size == 2**4
        multiple = 2**4
        requirements = type(requirements)(multiple_of=multiple, minimum=multiple)
    recorder = _SizeRecorder(stages=model.first_output)
    model.net = recorder
    for height, width in ((37, 50), (130, 41), (8, 8), (256, 255)):
        image = torch.rand(1, 3, height, width)
        out = restore(model, image)
        assert out.shape == image.shape and torch.equal(out, image)
        pad_w, pad_h = requirements.get_padding(width, height)
        assert recorder.seen[-1] == (height + pad_h, width + pad_w)


def _tiny_spandrel_net(arch: str) -> nn.Module:
    from spandrel.architectures.FFTformer import FFTformer
    from spandrel.architectures.Uformer import Uformer
    from spandrel_extra_arches.architectures.MPRNet import MPRNet
    from spandrel_extra_arches.architectures.Restormer import Restormer

    one = {"num_refinement_blocks": 1}
    return {
        "Restormer": lambda: Restormer(dim=8, num_blocks=[1] * 4, heads=[1] * 4, **one),
        "MPRNet": lambda: MPRNet(n_feat=8, scale_unetfeats=4, scale_orsnetfeats=4, num_cab=1),
        "Uformer": lambda: Uformer(embed_dim=8, depths=[1] * 9, num_heads=[1] * 9),
        "FFTformer": lambda: FFTformer(dim=8, num_blocks=[1] * 3, **one),
    }[arch]()


@pytest.mark.parametrize("arch", ["Restormer", "MPRNet", "Uformer", "FFTformer"])
def test_loaded_weights_pad_as_spandrels_descriptor_of_them_asks(arch, tmp_path):
    torch.manual_seed(0)
    torch.save(_tiny_spandrel_net(arch).state_dict(), tmp_path / "w.pth")
    loaded = load_baseline_weights(tmp_path / "w.pth")
    requirements = _spandrel_descriptor(loaded.net).size_requirements
    recorder = _SizeRecorder(stages=arch == "MPRNet")  # MPRNet.py returns its stage outputs
    loaded.net = recorder
    for height, width in ((37, 50), (130, 41)):
        image = torch.rand(1, 3, height, width)
        assert torch.equal(restore(loaded, image), image)
        pad_w, pad_h = requirements.get_padding(width, height)
        assert recorder.seen[-1] == (height + pad_h, width + pad_w)


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


def _nafnet_block(prefix: str, c: int) -> dict[str, tuple[int, ...]]:
    """The keys and shapes of one NAFBlock of channel width c, as the official NAFNet release
    (megvii-research/NAFNet, NAFNet_arch.py) names them: 1x1 expand to 2c, 3x3 depth-wise, simple
    gate back to c, channel attention (sca.1), 1x1; then the 2c feed-forward; two LayerNorm2d."""
    shapes = {
        "conv1": (2 * c, c, 1, 1),
        "conv2": (2 * c, 1, 3, 3),
        "conv3": (c, c, 1, 1),
        "sca.1": (c, c, 1, 1),
        "conv4": (2 * c, c, 1, 1),
        "conv5": (c, c, 1, 1),
    }
    keys = {}
    for name, shape in shapes.items():
        keys[f"{prefix}.{name}.weight"], keys[f"{prefix}.{name}.bias"] = shape, (shape[0],)
    for norm in ("norm1", "norm2"):
        keys[f"{prefix}.{norm}.weight"] = keys[f"{prefix}.{norm}.bias"] = (c,)
    keys[f"{prefix}.beta"] = keys[f"{prefix}.gamma"] = (1, c, 1, 1)
    return keys


def official_nafnet_keys(width: int, enc: list[int], middle: int, dec: list[int]) -> dict:
    """The official release's state_dict layout: intro, encoders + downs (2x2 stride-2 convs
    doubling the width), middle_blks, ups (bias-free 1x1 to 2c, then PixelShuffle) + decoders."""
    keys = {"intro.weight": (width, 3, 3, 3), "intro.bias": (width,)}
    c = width
    for level, count in enumerate(enc):
        for i in range(count):
            keys |= _nafnet_block(f"encoders.{level}.{i}", c)
        keys[f"downs.{level}.weight"], keys[f"downs.{level}.bias"] = (2 * c, c, 2, 2), (2 * c,)
        c *= 2
    for i in range(middle):
        keys |= _nafnet_block(f"middle_blks.{i}", c)
    for level, count in enumerate(dec):
        keys[f"ups.{level}.0.weight"] = (2 * c, c, 1, 1)
        c //= 2
        for i in range(count):
            keys |= _nafnet_block(f"decoders.{level}.{i}", c)
    return keys | {"ending.weight": (3, width, 3, 3), "ending.bias": (3,)}


def test_official_nafnet_weights_are_detected_and_loaded_whole(tmp_path):
    # A narrow NAFNet (width 8, two levels) in the official file's layout and nesting ("params").
    layout = official_nafnet_keys(8, enc=[1, 2], middle=1, dec=[1, 1])
    torch.manual_seed(0)
    state = {key: torch.randn(shape) for key, shape in layout.items()}
    path = tmp_path / "NAFNet-narrow.pth"
    torch.save({"params": state}, path)
    loaded = load_baseline_weights(path)
    weights = loaded.net.state_dict()
    assert {key: tuple(value.shape) for key, value in weights.items()} == layout
    assert all(torch.equal(weights[key], state[key]) for key in layout)
    assert loaded.size_multiple == 2 ** len([1, 2])  # two downsamplings: sides of 4
    out = restore(loaded, torch.rand(1, 3, 30, 22))
    assert out.shape == (1, 3, 30, 22) and torch.isfinite(out).all()


def test_loading_unsupported_or_missing_weights_raises_input_error(tmp_path):
    path = tmp_path / "not_a_baseline.pth"
    torch.save({"conv.weight": torch.zeros(1, 1, 3, 3)}, path)
    with pytest.raises(InputError, match="not_a_baseline.pth"):
        load_baseline_weights(path)
    with pytest.raises(InputError, match="do not exist"):
        load_baseline_weights(tmp_path / "missing.pth")
