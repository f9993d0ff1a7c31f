"""A checkpoint is what it says it is: the weights' sha256 recorded at save time is verified at
load time, and every tensor's dtype and shape are checked against the architecture it
describes. Without these, a copy with a few flipped bytes or an int8 conversion loads and
scores quietly worse."""

from __future__ import annotations

import json
import struct
import zipfile

import pytest
import torch

import irnext
from irnext.checkpoint import load_checkpoint, save_checkpoint
from irnext.errors import InputError

SMALL = dict(width=8, num_res=1)


def _saved(tmp_path, name="m.pt"):
    torch.manual_seed(0)
    model = irnext.create_model("irnext-test", **SMALL)
    return model, save_checkpoint(tmp_path / name, model)


def _largest_tensor_offset(path) -> int:
    """Where the bytes of the largest tensor start inside a torch zip file (stored uncompressed:
    local header of 30 bytes, then the name and the extra field)."""
    with zipfile.ZipFile(path) as archive:
        member = max(
            (info for info in archive.infolist() if "/data/" in info.filename),
            key=lambda info: info.file_size,
        )
    with open(path, "rb") as handle:
        handle.seek(member.header_offset + 26)
        name_length, extra_length = struct.unpack("<HH", handle.read(4))
    return member.header_offset + 30 + name_length + extra_length + member.file_size // 2


def _flip(path, offset, count=3):
    data = bytearray(path.read_bytes())
    for i in range(count):
        data[offset + i] ^= 0x40  # an exponent bit of a float32: a large change in value
    path.write_bytes(bytes(data))


def test_a_torch_checkpoint_with_flipped_bytes_is_refused(tmp_path):
    model, path = _saved(tmp_path)
    _flip(path, _largest_tensor_offset(path))
    # The fault is real: torch reads the file without complaint and the weights differ.
    altered = torch.load(path, weights_only=True)["state_dict"]
    original = model.state_dict()
    assert any(not torch.equal(altered[k], original[k]) for k in original)
    with pytest.raises(InputError, match="m.pt: the weights do not match the weights_sha256"):
        load_checkpoint(path)


def test_a_safetensors_checkpoint_with_flipped_bytes_is_refused(tmp_path):
    _, path = _saved(tmp_path, "m.safetensors")
    header_length = struct.unpack("<Q", path.read_bytes()[:8])[0]
    data_start = 8 + header_length
    _flip(path, data_start + (path.stat().st_size - data_start) // 2)
    with pytest.raises(InputError, match="m.safetensors: the weights do not match"):
        load_checkpoint(path)


def test_an_int8_conversion_is_refused_naming_the_key_and_both_dtypes(tmp_path):
    model, path = _saved(tmp_path)
    payload = torch.load(path, weights_only=True)
    key = next(k for k, v in payload["state_dict"].items() if v.is_floating_point())
    payload["state_dict"] = {
        k: (v * 100).round().to(torch.int8) if v.is_floating_point() else v
        for k, v in payload["state_dict"].items()
    }
    torch.save(payload, path)
    expected = f"m.pt: .*'{key}' has dtype torch.int8, the model expects torch.float32"
    with pytest.raises(InputError, match=expected):
        load_checkpoint(path)


def test_a_checkpoint_without_a_recorded_hash_loads_with_a_warning_naming_it(tmp_path):
    model, path = _saved(tmp_path, "old.pt")
    payload = torch.load(path, weights_only=True)
    del payload["weights_sha256"]  # as written before the hash was recorded
    torch.save(payload, path)
    with pytest.warns(UserWarning, match="old.pt: a checkpoint without a recorded weights_sha"):
        loaded, _ = load_checkpoint(path)
    for key, value in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[key], value)


def test_the_recorded_hash_is_the_same_in_both_formats_and_follows_the_weights(tmp_path):
    model, pt = _saved(tmp_path)
    tensors = save_checkpoint(tmp_path / "m.safetensors", model)
    from safetensors import safe_open

    with safe_open(str(tensors), framework="pt") as handle:
        in_header = json.loads(handle.metadata()["irnext"])["weights_sha256"]
    in_pickle = torch.load(pt, weights_only=True)["weights_sha256"]
    assert in_header == in_pickle and len(in_pickle) == 64
    with torch.no_grad():
        next(model.parameters()).view(-1)[0] += 1.0
    changed = torch.load(save_checkpoint(tmp_path / "n.pt", model), weights_only=True)
    assert changed["weights_sha256"] != in_pickle
