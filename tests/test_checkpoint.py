"""Self-describing checkpoints rebuild the exact network with no other input."""

from __future__ import annotations

import pytest
import torch

import irnext
from irnext.checkpoint import FORMAT
from irnext.errors import InputError
from tests.reference_irnext import randomize_
from tests.test_model import SMALL, SWITCHES


@pytest.mark.parametrize("switch", ["paper", "no_msm", "two_pools", "bilinear_up", "bare"])
def test_round_trip_rebuilds_the_same_network(tmp_path, switch):
    kwargs = {**SMALL, **SWITCHES.get(switch, {})}
    model = randomize_(irnext.create_model("irnext-test", **kwargs)).eval()
    path = irnext.save_checkpoint(tmp_path / "m.pt", model, training={"lr": 1e-4, "epochs": 3})
    loaded, info = irnext.load_checkpoint(path)
    assert info["format"] == FORMAT and info["model_name"] == "irnext-test"
    assert info["code_version"] == irnext.__version__
    assert info["training"] == {"lr": 1e-4, "epochs": 3}
    assert loaded.config == model.config
    x = torch.rand(2, 3, 64, 80)
    with torch.no_grad():
        for a, b in zip(model(x), loaded(x)):
            assert torch.equal(a, b)
    # The state includes BatchNorm running statistics, not only parameters.
    for key, value in model.state_dict().items():
        assert torch.equal(value, loaded.state_dict()[key]), key


def test_bare_model_without_registry_round_trips(tmp_path):
    model = irnext.IRNeXt(**SMALL, lam=False)
    loaded, info = irnext.load_checkpoint(irnext.save_checkpoint(tmp_path / "b.pt", model))
    assert info["architecture"] == "IRNeXt" and info["model_name"] is None
    assert loaded.config == model.config


def test_official_pkl_is_pointed_to_its_loader(tmp_path):
    path = tmp_path / "ITS.pkl"
    torch.save({"model": irnext.IRNeXt(num_res=1).state_dict()}, path)
    with pytest.raises(InputError, match="ITS.pkl: .*use irnext.load_official_checkpoint"):
        irnext.load_checkpoint(path)


def test_unknown_architecture_and_non_plain_entries(tmp_path):
    path = tmp_path / "x.pt"
    torch.save(
        {"format": FORMAT, "architecture": "Nope", "model_kwargs": {}, "state_dict": {}}, path
    )
    with pytest.raises(InputError, match="unknown architecture 'Nope'"):
        irnext.load_checkpoint(path)
    with pytest.raises(InputError, match="plain data; got object"):
        irnext.save_checkpoint(tmp_path / "y.pt", irnext.IRNeXt(**SMALL), note=object())


def _reference_sha256(state):
    """The documented recipe, computed here by hand: sorted keys, then per key its name,
    dtype, shape and the raw little-endian bytes of its values."""
    import hashlib

    digest = hashlib.sha256()
    for key in sorted(state):
        array = state[key].detach().cpu().contiguous().numpy()
        digest.update(f"{key}\0{state[key].dtype}\0{tuple(array.shape)}\0".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def test_weights_sha256_follows_its_recipe_and_sees_every_change():
    from irnext.checkpoint import weights_sha256

    model = irnext.create_model("irnext-test", **SMALL)
    state = model.state_dict()
    assert weights_sha256(state) == _reference_sha256(state)
    changed = {k: v.clone() for k, v in state.items()}
    first = next(k for k, v in changed.items() if v.is_floating_point())
    changed[first].view(-1)[0] += 1e-6
    assert weights_sha256(changed) != weights_sha256(state)
    reordered = dict(reversed(list(state.items())))
    assert weights_sha256(reordered) == weights_sha256(state)  # order of keys does not count
    as_double = {k: v.double() if v.is_floating_point() else v for k, v in state.items()}
    assert weights_sha256(as_double) != weights_sha256(state)  # the dtype does


def test_checkpoints_are_deterministic_and_identified_by_their_weights(tmp_path):
    from irnext.checkpoint import weights_sha256

    model = irnext.create_model("irnext-test", **SMALL)
    first = irnext.save_checkpoint(tmp_path / "a.pt", model, training={"epochs": 1})
    second = irnext.save_checkpoint(tmp_path / "b.pt", model, training={"epochs": 1})
    assert first.read_bytes() == second.read_bytes()  # no timestamp, no commit inside
    info = irnext.load_checkpoint(first)[1]
    assert "git_commit" not in info and info["code_version"] == irnext.__version__
    tensors = irnext.save_checkpoint(tmp_path / "c.safetensors", model, training={"epochs": 1})
    loaded = irnext.load_checkpoint(tensors)[0]
    assert weights_sha256(loaded.state_dict()) == weights_sha256(model.state_dict())
