"""Untrusted weights files: every load path names a bad file and never runs its code."""

from __future__ import annotations

import os
import pickle
import zipfile

import pytest
import torch
from safetensors.torch import save_file

import irnext
from irnext.checkpoint import load_checkpoint, save_checkpoint
from irnext.errors import InputError
from irnext.models.baselines import load_baseline_weights
from irnext.models.official import load_official_checkpoint

SMALL = dict(num_res=1, width=8, filter_groups=2)
LOADERS = {
    "suite": load_checkpoint,
    "official": load_official_checkpoint,
    "baseline": load_baseline_weights,
}


class _RunsCode:
    """Unpickling this calls os.system, which would create the marker file."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def _good_torch_file(path):
    torch.save({"model": irnext.IRNeXt(num_res=1).state_dict()}, path)
    return path


def _bad_file(kind, tmp_path):
    path = tmp_path / f"{kind}.pth"
    if kind == "random":
        path.write_bytes(os.urandom(4096))  # different bytes each run: any must fail well
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "truncated":
        data = _good_torch_file(path).read_bytes()
        path.write_bytes(data[: len(data) // 2])
    elif kind == "code-torch":  # a torch zip whose pickle calls os.system
        torch.save({"model": _RunsCode(tmp_path / "ran")}, path)
    elif kind == "code-pickle":  # a plain pickle, as old .pkl checkpoints are
        path.write_bytes(pickle.dumps({"model": _RunsCode(tmp_path / "ran")}, protocol=2))
    return path


@pytest.mark.parametrize("loader", list(LOADERS))
@pytest.mark.parametrize(
    "kind, words",
    [
        ("random", "not a torch file of tensors and plain data"),
        ("empty", "the file is empty"),
        ("truncated", "not a complete torch zip archive"),
        ("code-torch", "would import and run 'posix.system'"),
        ("code-pickle", "would import and run 'posix.system'"),
    ],
)
def test_bad_files_are_named_and_never_run(tmp_path, loader, kind, words):
    path = _bad_file(kind, tmp_path)
    with pytest.raises(InputError) as caught:
        LOADERS[loader](path)
    message = str(caught.value)
    assert message.startswith(str(path)) and words in message
    assert "weights_only=False" not in message and "weights_only` set to `False" not in message
    assert not (tmp_path / "ran").exists()  # the code in the pickle never ran


def test_the_malicious_pickle_really_would_run_code(tmp_path):
    """The control: unpickled without restrictions, the same file does create the marker."""
    path = _bad_file("code-pickle", tmp_path)
    pickle.loads(path.read_bytes())
    assert (tmp_path / "ran").exists()


def _with_nan(state, key):
    state = dict(state)
    state[key] = state[key].clone()
    state[key].view(-1)[0] = float("nan")
    return state


def test_non_finite_weights_are_refused_at_load_time(tmp_path):
    model = irnext.create_model("irnext-test", **SMALL)
    key = next(iter(model.state_dict()))
    path = save_checkpoint(tmp_path / "m.pt", model)
    payload = torch.load(path, weights_only=True)
    payload["state_dict"] = _with_nan(payload["state_dict"], key)
    torch.save(payload, path)
    with pytest.raises(InputError, match=f"m.pt: 1 tensor.* NaN or infinite.*'{key}'"):
        load_checkpoint(path)

    official = irnext.IRNeXt(num_res=1).state_dict()
    from irnext.models.official import to_official

    bad = _with_nan(to_official(official), "Encoder.0.layers.0.main.0.main.0.weight")
    torch.save({"model": bad}, tmp_path / "o.pkl")
    with pytest.raises(InputError, match="o.pkl: .*NaN or infinite.*Encoder.0.layers.0"):
        load_official_checkpoint(tmp_path / "o.pkl")


def _small_nafnet():
    """A NAFNet far smaller than the published ones: spandrel detects any configuration."""
    from spandrel.architectures.NAFNet import NAFNet

    return NAFNet(width=8, enc_blk_nums=[1], middle_blk_num=1, dec_blk_nums=[1])


def test_non_finite_baseline_weights_are_refused(tmp_path):
    state = _small_nafnet().state_dict()
    key = next(k for k, v in state.items() if v.is_floating_point())
    state = dict(state)
    state[key] = torch.full_like(state[key], float("inf"))
    torch.save(state, tmp_path / "n.pth")
    with pytest.raises(InputError, match=f"n.pth: 1 tensor.*'{key}'"):
        load_baseline_weights(tmp_path / "n.pth")


def test_wrong_keys_and_shapes_name_the_file_and_first_mismatches(tmp_path):
    model = irnext.create_model("irnext-test", **SMALL)
    path = save_checkpoint(tmp_path / "m.pt", model)
    payload = torch.load(path, weights_only=True)
    state = payload["state_dict"]
    first = next(iter(state))
    state["extra.weight"] = torch.zeros(1)
    state[first] = torch.zeros(3, 3)
    torch.save(payload, path)
    with pytest.raises(InputError) as caught:
        load_checkpoint(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: the weights do not fit the IRNeXt")
    assert "unexpected 'extra.weight'" in message
    expected = tuple(model.state_dict()[first].shape)
    assert f"'{first}' has shape (3, 3), the model expects {expected}" in message


def test_checkpoints_round_trip_as_safetensors(tmp_path):
    model = irnext.create_model("irnext-test", **SMALL).eval()
    path = save_checkpoint(tmp_path / "m.safetensors", model, training={"epochs": 2})
    with open(path, "rb") as handle:  # a real safetensors file: 8-byte header length, JSON
        header_length = int.from_bytes(handle.read(8), "little")
        assert handle.read(1) == b"{" and header_length < path.stat().st_size
    loaded, info = load_checkpoint(path)
    assert info["training"] == {"epochs": 2} and info["model_name"] == "irnext-test"
    for key, value in model.state_dict().items():
        assert torch.equal(value, loaded.state_dict()[key]), key
    with pytest.raises(InputError, match="resume state .* cannot be stored in a .safetensors"):
        save_checkpoint(tmp_path / "r.safetensors", model, resume={"epoch": 1})


def test_bad_safetensors_files_are_named(tmp_path):
    bare = tmp_path / "bare.safetensors"
    save_file({"w": torch.zeros(2)}, bare)
    with pytest.raises(InputError, match="bare.safetensors: .*without the 'irnext' metadata"):
        load_checkpoint(bare)
    broken = tmp_path / "broken.safetensors"
    broken.write_bytes(bare.read_bytes()[:20])
    with pytest.raises(InputError, match="broken.safetensors: not a readable safetensors"):
        load_checkpoint(broken)


def test_a_zip_that_is_not_a_torch_file(tmp_path):
    path = tmp_path / "other.pt"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(InputError, match="other.pt: not a readable torch checkpoint"):
        load_checkpoint(path)


def test_baseline_weights_load_from_safetensors_and_torch_files_alike(tmp_path):
    state = {k: v.contiguous() for k, v in _small_nafnet().state_dict().items()}
    save_file(state, tmp_path / "n.safetensors")
    torch.save({"params": state}, tmp_path / "n.pth")  # the official NAFNet release's wrapping
    for name in ("n.safetensors", "n.pth"):
        loaded = load_baseline_weights(tmp_path / name)
        assert loaded.irnext_spec["architecture"] == "NAFNet"
        for key, value in state.items():
            assert torch.equal(loaded.net.state_dict()[key], value), (name, key)
