"""Official checkpoints: key listing, the .pkl format and equal outputs for any weights."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

import irnext
from irnext.errors import InputError
from irnext.models.official import from_official, infer_num_res, to_official
from tests.reference_irnext import OfficialIRNeXt, randomize_

# The official state_dict listing (326 keys with shapes), read from the official release.
LISTING = Path(__file__).with_name("data") / "irnext_official_state_dict_num_res4.json"


def official_listing() -> dict[str, list[int]]:
    return json.loads(LISTING.read_text())


def test_state_dict_keys_and_shapes_equal_official_listing():
    listing = official_listing()
    ours = to_official(irnext.IRNeXt().state_dict())
    assert len(ours) == len(listing) == 326
    assert {k: list(v.shape) for k, v in ours.items()} == listing


def test_key_conversion_round_trips():
    listing = official_listing()
    assert list(to_official(from_official(dict.fromkeys(listing)))) == list(listing)
    ours = irnext.IRNeXt(num_res=14).state_dict()
    assert list(from_official(to_official(ours))) == list(ours)


def test_the_one_key_table_names_num_res_14_as_the_official_code_does():
    # Both directions come from KEY_PAIRS; the official module structure (the tests' reference)
    # is the independent side, at the deblurring depth as at the dehazing one.
    official = list(OfficialIRNeXt(num_res=14).state_dict())
    ours = list(irnext.IRNeXt(num_res=14).state_dict())
    assert sorted(to_official(dict.fromkeys(ours))) == sorted(official)
    assert sorted(from_official(dict.fromkeys(official))) == sorted(ours)


def _rules_used(keys, rules) -> set[int]:
    import re

    used = set()
    for key in keys:
        for index, (pattern, replacement) in enumerate(rules):
            renamed = re.sub(pattern, replacement, key)
            used |= {index} if renamed != key else set()
            key = renamed
    return used


def test_every_key_pair_renames_some_key_in_each_direction():
    from irnext.models.convir import ConvIR
    from irnext.models.official import _TO_OFFICIAL, _TO_OURS, KEY_PAIRS
    from tests.reference_convir import official_convir

    # The IRNeXt release's keys and ConvIR's (whose branches add square_att / strip_att).
    listing = [*official_listing(), *official_convir(1).state_dict()]
    ours = [*irnext.IRNeXt().state_dict(), *ConvIR(num_res=1).state_dict()]
    everything = set(range(len(KEY_PAIRS)))
    assert _rules_used(listing, _TO_OURS) == everything  # no dead pair, no missing direction
    assert _rules_used(ours, _TO_OFFICIAL) == everything


# Module paths and classes of the official release (c-yn/IRNeXt, Dehazing/ITS/models): the
# last residual block of a level holds the multi-scale module, the others an Identity.
LAST = "Encoder.0.layers.3.main.1"
OFFICIAL_MODULES = {
    "Encoder.0": "EBlock",
    "Decoder.2": "DBlock",
    "Encoder.0.layers.2.main.1": "Identity",
    LAST: "DeepPoolLayer",
    f"{LAST}.pools.0": "AvgPool2d",
    f"{LAST}.relu": "GELU",
    f"{LAST}.dynas.2": "dynamic_filter",
    f"{LAST}.dynas.2.act": "Tanh",
    f"{LAST}.dynas.2.pad": "ReflectionPad2d",
    f"{LAST}.dynas.2.ap": "AdaptiveAvgPool2d",
    f"{LAST}.dynas.2.gap": "AdaptiveAvgPool2d",
    "feat_extract.3.main.0": "ConvTranspose2d",
    "SCM1.main.4": "InstanceNorm2d",
    "FAM2.merge.main.0": "Conv2d",
}


def test_reference_model_has_the_official_layout():
    # The test reference itself must match the release, or the output test below proves nothing.
    reference = OfficialIRNeXt(num_res=4)
    ref = reference.state_dict()
    assert {k: list(v.shape) for k, v in ref.items()} == official_listing()
    modules = {name: type(module).__name__ for name, module in reference.named_modules()}
    assert {name: modules.get(name) for name in OFFICIAL_MODULES} == OFFICIAL_MODULES
    assert len([n for n in modules if n.endswith(".pools.0")]) == 6  # one per level and side


@pytest.mark.parametrize("num_res", [1, 4])
def test_loaded_checkpoint_gives_official_outputs(tmp_path, num_res):
    reference = randomize_(OfficialIRNeXt(num_res=num_res), seed=num_res).eval()
    path = tmp_path / "model.pkl"
    # A training snapshot: the optimizer and epoch entries must be ignored.
    torch.save({"model": reference.state_dict(), "optimizer": {"state": {}}, "epoch": 7}, path)
    model = irnext.load_official_checkpoint(path)
    assert model.config["num_res"] == num_res and not model.training
    x = torch.rand(2, 3, 64, 96)
    with torch.no_grad():
        expected, actual = reference(x), model(x)
    for e, a in zip(expected, actual):
        torch.testing.assert_close(a, e, atol=1e-5, rtol=1e-5)
    assert (expected[-1] - x).abs().mean() > 1e-3  # the network did something


def test_bare_and_dataparallel_state_dicts_load(tmp_path):
    reference = randomize_(OfficialIRNeXt(num_res=2))
    path = tmp_path / "dp.pth"
    torch.save({f"module.{k}": v for k, v in reference.state_dict().items()}, path)
    assert irnext.load_official_checkpoint(path).config["num_res"] == 2


def test_bad_checkpoints_name_the_file_and_the_problem(tmp_path):
    with pytest.raises(InputError, match="missing.pkl: checkpoint file not found"):
        irnext.load_official_checkpoint(tmp_path / "missing.pkl")
    garbage = tmp_path / "garbage.pkl"
    garbage.write_bytes(b"not a checkpoint")
    with pytest.raises(InputError, match="garbage.pkl: not a readable torch checkpoint"):
        irnext.load_official_checkpoint(garbage)
    other = tmp_path / "other.pkl"
    torch.save({"model": {"conv.weight": torch.zeros(1)}}, other)
    with pytest.raises(InputError, match="other.pkl: no 'Encoder.0.layers.N"):
        irnext.load_official_checkpoint(other)
    state = OfficialIRNeXt(num_res=2).state_dict()
    state["feat_extract.0.main.0.weight"] = torch.zeros(16, 3, 3, 3)
    wrong = tmp_path / "wrong.pkl"
    torch.save({"model": state}, wrong)
    shape_error = r"'feat_extract.0.main.0.weight' has shape \(16, 3, 3, 3\)"
    with pytest.raises(InputError, match=shape_error):
        irnext.load_official_checkpoint(wrong)
    del state["feat_extract.0.main.0.weight"]
    torch.save({"model": state}, wrong)
    with pytest.raises(InputError, match="missing .*feat_extract.0.main.0.weight"):
        irnext.load_official_checkpoint(wrong)


class _NotATensor:
    pass


def test_checkpoints_are_loaded_weights_only(tmp_path):
    path = tmp_path / "code.pkl"
    torch.save({"model": _NotATensor()}, path)
    with pytest.raises(InputError, match="code.pkl: not a readable torch checkpoint"):
        irnext.load_official_checkpoint(path)


def test_infer_num_res_reads_the_layer_indices():
    keys = dict.fromkeys(OfficialIRNeXt(num_res=3).state_dict())
    assert infer_num_res(keys) == 3


def test_evaluate_cli_scores_an_official_checkpoint(tmp_path, tiny_haze):
    import hashlib

    from irnext.cli import main
    from irnext.evaluation import read_summary

    reference = randomize_(OfficialIRNeXt(num_res=1), seed=3).eval()
    weights = tmp_path / "ITS.pkl"
    torch.save({"model": reference.state_dict()}, weights)
    out = tmp_path / "eval"
    argv = [
        "evaluate",
        "--official-irnext",
        str(weights),
        "--dataset",
        "synth-haze",
        "--root",
        str(tiny_haze),
        "--device",
        "cpu",
        "--out",
        str(out),
    ]
    assert main(argv) == 0
    summary = read_summary(out / "summary.json")
    assert summary["model"] == "irnext-official (ITS.pkl)"
    assert summary["weights_sha256"] == hashlib.sha256(weights.read_bytes()).hexdigest()
    assert summary["count"] == 2 and summary["protocol"] == "dehaze_pooled"
