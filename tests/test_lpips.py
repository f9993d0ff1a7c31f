"""LPIPS (Zhang et al., CVPR 2018, eq. 1) on weights the tests make: against a reference
written here from torchvision's AlexNet, its published-weights loading through the hub cache,
the named error offline, and the DPDD protocol that reports it."""

from __future__ import annotations

import functools
import urllib.error

import numpy as np
import pytest
import torch
from torchvision.models import alexnet

from irnext.metrics import lpips as L
from irnext.metrics import score, score_batch


@functools.cache
def _alexnet(seed: int) -> torch.nn.Module:
    torch.manual_seed(max(seed, 0))
    return alexnet().eval()  # torchvision's, the reference's network


def _states(seed: int = 0) -> tuple[dict, dict]:
    backbone = {k: v for k, v in _alexnet(seed).state_dict().items() if k.startswith("features")}
    torch.manual_seed(seed)
    linear = {
        f"lin{k}.model.1.weight": torch.rand(1, c, 1, 1) for k, c in enumerate(L.CHANNELS)
    }  # non-negative, as the published ones are
    return backbone, linear


@torch.no_grad()
def _reference(x: torch.Tensor, y: torch.Tensor, backbone: dict, linear: dict) -> torch.Tensor:
    """Eq. 1 from torchvision's AlexNet: the outputs of its five ReLUs (features 1, 4, 7, 9,
    11), unit-normalised over channels, squared differences weighted by w_l, summed over
    channels, averaged over positions, summed over layers; inputs in [-1, 1] shifted and
    scaled by the authors' constants."""
    net = _alexnet(-1)  # a torchvision AlexNet given the backbone's weights
    net.load_state_dict(backbone, strict=False)  # the classifier is not used
    shift = torch.tensor([-0.030, -0.088, -0.188]).view(1, 3, 1, 1)
    scale = torch.tensor([0.458, 0.448, 0.450]).view(1, 3, 1, 1)
    a, b = (2 * x - 1 - shift) / scale, (2 * y - 1 - shift) / scale
    total, layer = torch.zeros(x.shape[0]), 0
    for index, module in enumerate(net.features[:12]):
        a, b = module(a.clone()), module(b.clone())
        if index in (1, 4, 7, 9, 11):
            na = a / (a.pow(2).sum(1, keepdim=True).sqrt() + 1e-10)
            nb = b / (b.pow(2).sum(1, keepdim=True).sqrt() + 1e-10)
            w = linear[f"lin{layer}.model.1.weight"]
            total += ((na - nb).pow(2) * w).sum(1).mean(dim=(1, 2))
            layer += 1
    return total


def test_lpips_equals_the_papers_formula_on_test_made_weights():
    backbone, linear = _states()
    with torch.no_grad():
        net = L.LPIPS().load_published(backbone, linear)
        x, y = torch.rand(2, 3, 64, 64), torch.rand(2, 3, 64, 64)
        expected = _reference(x, y, backbone, linear)
        got = net(x, y)
    assert torch.allclose(got, expected, rtol=1e-5, atol=1e-7)
    assert got.shape == (2,) and (got > 0).all()
    assert torch.allclose(net(y, x), got, rtol=1e-6)  # symmetric
    assert net(x, x).abs().max() < 1e-10  # identical images: zero distance


def _cache(tmp_path, monkeypatch) -> None:
    """The two published files in a hub cache the test owns, as a connected machine leaves
    them after the first use."""
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    folder = tmp_path / "checkpoints"
    folder.mkdir()
    backbone, linear = _states(seed=3)
    torch.save(backbone, folder / L.ALEXNET_URL.rsplit("/", 1)[-1])
    torch.save(linear, folder / L.LINEAR_FILE)


def test_published_weights_load_from_the_cache_without_a_network(tmp_path, monkeypatch):
    _cache(tmp_path, monkeypatch)
    net = L.load_lpips()
    backbone, linear = _states(seed=3)
    x, y = torch.rand(1, 3, 48, 48), torch.rand(1, 3, 48, 48)
    with torch.no_grad():
        assert torch.allclose(net(x, y), _reference(x, y, backbone, linear), rtol=1e-5)


def test_offline_without_the_files_is_a_named_error(tmp_path, monkeypatch):
    def offline(*args, **kwargs):
        raise urllib.error.URLError("no route to host")

    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", offline)
    with pytest.raises(L.LPIPSWeightsUnavailable) as caught:
        L.load_lpips()
    message = str(caught.value)
    assert "alexnet-owt-7be5be79.pth" in message and L.LINEAR_FILE in message
    assert str(tmp_path / "checkpoints") in message


def test_the_dpdd_protocol_reports_mae_and_lpips(tmp_path, monkeypatch):
    _cache(tmp_path, monkeypatch)
    monkeypatch.setattr(L, "_NETWORKS", {})
    rng = np.random.default_rng(0)
    target = rng.random((32, 32, 3)).astype(np.float32)
    prediction = np.clip(target + rng.normal(0, 0.05, target.shape), 0, 1).astype(np.float32)
    same = score(target, target, protocol="dpdd_float_lpips")
    assert same["mae"] == 0 and same["lpips"] == pytest.approx(0, abs=1e-9)
    scores = score(prediction, target, protocol="dpdd_float_lpips")
    assert scores["mae"] == pytest.approx(np.abs(prediction - target).mean(), rel=1e-5)
    backbone, linear = _states(seed=3)
    as_batch = [torch.from_numpy(a).permute(2, 0, 1)[None] for a in (prediction, target)]
    assert scores["lpips"] == pytest.approx(float(_reference(*as_batch, backbone, linear)[0]))
    plain = score(prediction, target, protocol="dpdd_float")
    assert all(scores[k] == plain[k] for k in ("psnr_db", "ssim", "mae"))
    batched = score_batch(torch.cat([as_batch[0]] * 2), torch.cat([as_batch[1]] * 2),
                          protocol="dpdd_float_lpips")  # fmt: skip
    assert batched[0]["lpips"] == pytest.approx(scores["lpips"], rel=1e-5)
