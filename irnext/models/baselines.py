"""Transformer and CNN baselines, built from spandrel's architecture classes in the papers'
configurations, plus loading of a user's official weights through spandrel's auto-detection.

spandrel (and spandrel-extra-arches for the non-commercial Restormer and MPRNet) re-implements
each official network with the official state_dict keys and outputs; we only fix the
hyper-parameters of the published models. The padding each needs at test time is read from
spandrel's model descriptor (`size_requirements`); `_NOT_IN_DESCRIPTORS` holds the few facts
the descriptors do not state, each with the official code that does.
Parameter counts (millions) of these configurations match the papers: see `PUBLISHED_PARAMS_M`.
"""

from __future__ import annotations

import functools
import importlib
import math
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from irnext.errors import InputError
from irnext.models.entries import ModelEntry
from irnext.models.tlc import apply_tlc

ACADEMIC = "non-commercial academic licence (official repository)"

# Paper-reported sizes, in millions of parameters, with their source.
PUBLISHED_PARAMS_M = {
    "restormer": (26.13, "Zamir et al., CVPR 2022"),
    "nafnet-w64": (67.89, "Chen et al., ECCV 2022 (NAFNet GoPro width 64)"),
    "uformer-b": (50.88, "Wang et al., CVPR 2022"),
    "mprnet-deblur": (20.1, "Zamir et al., CVPR 2021 (deblurring model)"),
    "mprnet-derain": (3.6, "Zamir et al., CVPR 2021 (deraining model)"),
    "fftformer": (16.6, "Kong et al., CVPR 2023"),
}


class SpandrelBaseline(nn.Module):
    """A spandrel network with the padding facts `irnext.inference.restore` reads.

    `square_multiple` reproduces Uformer's official test (`expand2square`): the image is placed
    in the centre of a zero square whose side is a multiple of it (128: spandrel's Uformer
    descriptor), and cropped back after.
    `first_output` picks MPRNet's final stage from its list of stage outputs.
    """

    def __init__(
        self,
        *,
        net: nn.Module,
        size_multiple: int = 1,
        min_size: int = 1,
        square_multiple: int | None = None,
        first_output: bool = False,
    ) -> None:
        super().__init__()
        self.net = net
        self.size_multiple, self.min_size = size_multiple, min_size
        self.square_multiple, self.first_output = square_multiple, first_output

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.square_multiple is None:
            return self._run(x)
        height, width = x.shape[-2:]
        side = math.ceil(max(height, width) / self.square_multiple) * self.square_multiple
        top, left = (side - height) // 2, (side - width) // 2
        padded = F.pad(x, (left, side - width - left, top, side - height - top))
        return self._run(padded)[..., top : top + height, left : left + width]

    def _run(self, x: torch.Tensor) -> torch.Tensor:
        out = self.net(x)
        return out[0] if self.first_output else out


def _restormer(**kwargs: Any) -> nn.Module:
    from spandrel_extra_arches.architectures.Restormer import Restormer

    return from_spandrel(Restormer(**kwargs), "Restormer")


def _nafnet(*, tlc: bool = False, tlc_train_size: int = 256, **kwargs: Any) -> nn.Module:
    from spandrel.architectures.NAFNet import NAFNet

    model = from_spandrel(NAFNet(**kwargs), "NAFNet")
    return apply_tlc(model, train_size=tlc_train_size) if tlc else model


def _uformer(**kwargs: Any) -> nn.Module:
    from spandrel.architectures.Uformer import Uformer

    return from_spandrel(Uformer(**kwargs), "Uformer")


def _mprnet(**kwargs: Any) -> nn.Module:
    from spandrel_extra_arches.architectures.MPRNet import MPRNet

    return from_spandrel(MPRNet(**kwargs), "MPRNet")


def _fftformer(**kwargs: Any) -> nn.Module:
    from spandrel.architectures.FFTformer import FFTformer

    return from_spandrel(FFTformer(**kwargs), "FFTformer")


ARCHITECTURES = {
    "restormer": _restormer,
    "nafnet": _nafnet,
    "uformer": _uformer,
    "mprnet": _mprnet,
    "fftformer": _fftformer,
}

_NAFNET_GOPRO = {"middle_blk_num": 1, "enc_blk_nums": [1, 1, 1, 28], "dec_blk_nums": [1, 1, 1, 1]}
ENTRIES = (
    ModelEntry(
        "restormer",
        "restormer",
        {},
        "motion_deblur",
        ACADEMIC,
        "Zamir et al., CVPR 2022; official Deblurring_Restormer.yml (dim 48, blocks "
        "4/6/6/8, heads 1/2/4/8, FFN 2.66); the same network serves deraining and "
        "single-image defocus deblurring",
    ),
    ModelEntry(
        "nafnet-w64",
        "nafnet",
        {"width": 64, **_NAFNET_GOPRO},
        "motion_deblur",
        "MIT",
        "Chen et al., ECCV 2022; official options/test/GoPro/NAFNet-width64.yml; "
        "tlc=True adds the test-time local converter",
    ),
    ModelEntry(
        "nafnet-w32",
        "nafnet",
        {"width": 32, **_NAFNET_GOPRO},
        "motion_deblur",
        "MIT",
        "Chen et al., ECCV 2022; official options/test/GoPro/NAFNet-width32.yml",
    ),
    ModelEntry(
        "uformer-b",
        "uformer",
        {
            "embed_dim": 32,
            "win_size": 8,
            "token_projection": "linear",
            "token_mlp": "leff",
            "depths": [1, 2, 8, 8, 2, 8, 8, 2, 1],
            "modulator": True,
        },
        "motion_deblur",
        "MIT",
        "Wang et al., CVPR 2022; official Uformer_B (embed 32, depths 1-2-8-8-2-8-8-2-1, "
        "modulator); tested on a centred zero-padded square, as the official test",
    ),
    ModelEntry(
        "mprnet-deblur",
        "mprnet",
        {"n_feat": 96, "scale_unetfeats": 48, "scale_orsnetfeats": 32},
        "motion_deblur",
        ACADEMIC,
        "Zamir et al., CVPR 2021; official Deblurring/MPRNet.py",
    ),
    ModelEntry(
        "mprnet-derain",
        "mprnet",
        {"n_feat": 40, "scale_unetfeats": 20, "scale_orsnetfeats": 16},
        "derain",
        ACADEMIC,
        "Zamir et al., CVPR 2021; official Deraining/MPRNet.py",
    ),
    ModelEntry(
        "fftformer",
        "fftformer",
        {},
        "motion_deblur",
        "MIT",
        "Kong et al., CVPR 2023; official fftformer_arch.py defaults (dim 48, blocks "
        "6/6/12, 4 refinement, FFN 3)",
    ),
)


# What spandrel's descriptors do not state, by spandrel architecture id:
# NAFNet pads itself to `padder_size` = 2 ** (encoder levels) (official NAFNet_arch.py,
# `check_image_size`), so its descriptor states no requirement; the suite pads to that multiple
# before the call, so cost and training code see the size the network computes on.
_PADS_ITSELF = {"NAFNet"}
# MPRNet returns its three stages' outputs, the final one first (official Deblurring/MPRNet.py
# `forward`; its test.py keeps `restored[0]`).
_STAGE_OUTPUTS = {"MPRNet"}
SUPPORTED = ("Restormer", "NAFNet", "Uformer", "MPRNet", "FFTformer")


def from_spandrel(net: nn.Module, arch: str, requirements: Any = None) -> SpandrelBaseline:
    """`net` of spandrel architecture `arch` wrapped with its padding: from `requirements` (a
    descriptor's `size_requirements`) when given, else from spandrel's descriptor of `arch`."""
    if arch in _PADS_ITSELF:
        multiple = net.padder_size
        return SpandrelBaseline(net=net, size_multiple=multiple, min_size=multiple)
    needs = requirements if requirements is not None else size_requirements(arch)
    if needs.square:  # Uformer: the side is spandrel's, the centring the official test's
        return SpandrelBaseline(net=net, square_multiple=needs.multiple_of)
    multiple = needs.multiple_of
    # A side below one multiple is padded up to it anyway: the minimum is at least the multiple.
    return SpandrelBaseline(
        net=net,
        size_multiple=multiple,
        min_size=max(needs.minimum, multiple),
        first_output=arch in _STAGE_OUTPUTS,
    )


# A one-block network of each architecture, to ask spandrel for its size requirements: each
# architecture's `load` in spandrel states them as constants, not as functions of the
# configuration (tests/test_baselines.py checks the full-size networks against them).
_PROBES = {
    "Restormer": {"dim": 8, "num_blocks": [1] * 4, "num_refinement_blocks": 1, "heads": [1] * 4},
    "MPRNet": {"n_feat": 8, "scale_unetfeats": 4, "scale_orsnetfeats": 4, "num_cab": 1},
    "Uformer": {"embed_dim": 8, "depths": [1] * 9, "num_heads": [1] * 9},
    "FFTformer": {"dim": 8, "num_blocks": [1] * 3, "num_refinement_blocks": 1},
}


@functools.cache
def size_requirements(arch: str) -> Any:
    """spandrel's `SizeRequirements` of architecture `arch`, from the descriptor spandrel builds
    for a one-block network of it (built on the CPU, also where the caller builds on meta:
    Uformer's constructor reads tensor values)."""
    import spandrel
    import spandrel_extra_arches

    spandrel_extra_arches.install(ignore_duplicates=True)
    detector = spandrel.MAIN_REGISTRY.get(arch).architecture
    network_class = getattr(importlib.import_module(type(detector).__module__), arch)
    with torch.device("cpu"):
        probe = network_class(**_PROBES[arch])
        return detector.load(probe.state_dict()).size_requirements


def load_baseline_weights(path: str | Path, *, tlc: bool = False) -> nn.Module:
    """Build a baseline from a user's downloaded official weights (.pth/.safetensors), with
    spandrel detecting the architecture and every hyper-parameter from the state_dict."""
    import spandrel
    import spandrel_extra_arches

    spandrel_extra_arches.install(ignore_duplicates=True)
    from irnext.weights import check_finite, read_weights_file

    path = Path(path)
    if not path.is_file():
        raise InputError(f"baseline weights '{path}' do not exist; expected a .pth file")
    # Read here with weights_only=True (spandrel's own .pth reader unpickles more freely).
    payload = read_weights_file(path, what="baseline weights")
    if not isinstance(payload, dict):
        raise InputError(f"{path}: expected a state_dict, got {type(payload).__name__}")
    from irnext.models import dehazeformer_weights  # spandrel has no DehazeFormer

    if dehazeformer_weights.is_dehazeformer_state(dehazeformer_weights.unwrap_state_dict(payload)):
        if tlc:
            raise InputError(f"TLC applies to NAFNet weights; '{path}' holds DehazeFormer")
        return dehazeformer_weights.load_dehazeformer_state(payload, path)
    state = spandrel.canonicalize_state_dict(payload)
    check_finite(state, path)
    try:
        descriptor = spandrel.ModelLoader().load_from_state_dict(state)
    except Exception as error:  # spandrel's detectors raise many types on foreign dicts
        raise InputError(
            f"'{path}' is not the state_dict of a supported baseline "
            f"({', '.join(SUPPORTED)}): {type(error).__name__}: {error}"
        ) from error
    arch = descriptor.architecture.id
    if arch not in SUPPORTED:
        raise InputError(f"'{path}' holds a {arch} network; supported: {', '.join(SUPPORTED)}")
    model = from_spandrel(descriptor.model, arch, descriptor.size_requirements)
    if tlc:
        if arch != "NAFNet":
            raise InputError(f"TLC applies to NAFNet weights; '{path}' holds {arch}")
        apply_tlc(model)
    model.irnext_spec = {
        "name": f"{arch.lower()} ({path.name})",
        "architecture": arch,
        "kwargs": {},
        "weights": str(path),
    }
    return model.eval()
