"""LPIPS (Zhang, Isola, Efros, Shechtman, Wang, "The Unreasonable Effectiveness of Deep Features
as a Perceptual Metric", CVPR 2018), AlexNet variant v0.1: the perceptual distance the defocus
tables (DPDD; Restormer's evaluation) report beside PSNR, SSIM and MAE.

Eq. 1 of the paper: images in [-1, 1] are shifted and scaled per channel, passed through
AlexNet's five ReLU stages; each stage's features are unit-normalised over channels, their
squared difference weighted per channel by the learnt non-negative vector w_l, summed over
channels, averaged over positions, and the five stages summed. Lower is closer.

The published weights are AlexNet's ImageNet weights (torchvision) and the learnt w_l (the
authors' `weights/v0.1/alex.pth`). They are downloaded into torch's hub cache on first use;
offline, `LPIPSWeightsUnavailable` names both files and where to place them.
"""

from __future__ import annotations

import torch
from torch import nn

from irnext.errors import InputError

ALEXNET_URL = "https://download.pytorch.org/models/alexnet-owt-7be5be79.pth"
LINEAR_URL = (
    "https://github.com/richzhang/PerceptualSimilarity/raw/master/lpips/weights/v0.1/alex.pth"
)
LINEAR_FILE = "lpips-v0.1-alex.pth"  # its name in the hub cache (the upstream name is generic)
# The authors' ScalingLayer constants: inputs in [-1, 1] are shifted and divided per channel.
SHIFT = (-0.030, -0.088, -0.188)
SCALE = (0.458, 0.448, 0.450)
STAGE_ENDS = (2, 5, 8, 10, 12)  # torchvision alexnet().features: after each of the 5 ReLUs
CHANNELS = (64, 192, 384, 256, 256)


class LPIPSWeightsUnavailable(InputError):
    """The published weights could not be read from the cache nor downloaded."""


class LPIPS(nn.Module):
    """Per-image LPIPS distance between two N x 3 x H x W batches in [0, 1]."""

    def __init__(self) -> None:
        super().__init__()
        features = _alexnet_features()
        starts = (0, *STAGE_ENDS[:-1])
        self.stages = nn.ModuleList(features[a:b] for a, b in zip(starts, STAGE_ENDS, strict=True))
        self.linear = nn.ParameterList(torch.zeros(1, c, 1, 1) for c in CHANNELS)
        self.register_buffer("shift", torch.tensor(SHIFT).view(1, 3, 1, 1))
        self.register_buffer("scale", torch.tensor(SCALE).view(1, 3, 1, 1))
        self.requires_grad_(False).eval()

    def forward(self, prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        x, y = ((2 * t - 1 - self.shift) / self.scale for t in (prediction, target))
        total = prediction.new_zeros(prediction.shape[0])
        for stage, weight in zip(self.stages, self.linear, strict=True):
            x, y = stage(x), stage(y)
            difference = (_unit(x) - _unit(y)).pow(2)
            total = total + (difference * weight).sum(dim=1).mean(dim=(1, 2))
        return total

    def load_published(self, alexnet_state: dict, linear_state: dict) -> LPIPS:
        """AlexNet's `features.N.*` tensors and the authors' `linK.model.1.weight` vectors."""
        for index, stage in enumerate(self.stages):
            start = (0, *STAGE_ENDS)[index]
            for offset, layer in enumerate(stage):
                if isinstance(layer, nn.Conv2d):
                    layer.weight.copy_(alexnet_state[f"features.{start + offset}.weight"])
                    layer.bias.copy_(alexnet_state[f"features.{start + offset}.bias"])
        for index, weight in enumerate(self.linear):
            weight.copy_(linear_state[f"lin{index}.model.1.weight"])
        return self


def _alexnet_features() -> nn.Sequential:
    """AlexNet's convolutional part as torchvision numbers it (`features.N`), up to conv5's
    ReLU (Krizhevsky's one-GPU variant, the ImageNet weights LPIPS uses)."""
    return nn.Sequential(
        nn.Conv2d(3, 64, 11, stride=4, padding=2),
        nn.ReLU(),
        nn.MaxPool2d(3, stride=2),
        nn.Conv2d(64, 192, 5, padding=2),
        nn.ReLU(),
        nn.MaxPool2d(3, stride=2),
        nn.Conv2d(192, 384, 3, padding=1),
        nn.ReLU(),
        nn.Conv2d(384, 256, 3, padding=1),
        nn.ReLU(),
        nn.Conv2d(256, 256, 3, padding=1),
        nn.ReLU(),
    )


def _unit(features: torch.Tensor) -> torch.Tensor:
    # The authors' normalize_tensor: divide by the channel norm (eps 1e-10 against zeros).
    return features / (features.pow(2).sum(dim=1, keepdim=True).sqrt() + 1e-10)


def load_lpips(device: str | torch.device = "cpu") -> LPIPS:
    """LPIPS-alex v0.1 with its published weights (downloaded on first use, then cached)."""
    states = [_download(ALEXNET_URL, None), _download(LINEAR_URL, LINEAR_FILE)]
    with torch.no_grad():
        return LPIPS().load_published(*states).to(device)


def _download(url: str, file_name: str | None) -> dict:
    try:
        return torch.hub.load_state_dict_from_url(
            url, map_location="cpu", progress=False, file_name=file_name, weights_only=True
        )
    except (OSError, RuntimeError) as error:  # URLError is an OSError
        cache = f"{torch.hub.get_dir()}/checkpoints"
        names = f"{url.rsplit('/', 1)[-1]} and {LINEAR_FILE} (from {LINEAR_URL})"
        raise LPIPSWeightsUnavailable(
            f"LPIPS needs its published weights and could not fetch {url} ({error}); on an "
            f"offline machine place {names} in {cache}"
        ) from error


_NETWORKS: dict[str, LPIPS] = {}  # one loaded network per device for the process


def lpips_distance(prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Per-image LPIPS of two N x 3 x H x W batches in [0, 1], the network loaded once."""
    key = str(prediction.device)
    if key not in _NETWORKS:
        _NETWORKS[key] = load_lpips(prediction.device)
    return _NETWORKS[key](prediction.float(), target.float())
