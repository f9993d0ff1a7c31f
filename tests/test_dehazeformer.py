"""DehazeFormer against the authors' code: outputs, checkpoint format, sizes, initialisation.

tests/data/dehazeformer_official_outputs.npz holds outputs of the official models
(github IDKiro/DehazeFormer, models/dehazeformer.py) under the seeded weights of
`_seeded_weights`; tests/data/README.md says how it was made.
"""

from __future__ import annotations

import hashlib
import math
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import irnext
from irnext.cli import main
from irnext.errors import InputError
from irnext.evaluation import read_summary
from irnext.inference import restore
from irnext.models.dehazeformer_layers import reflect_pad
from irnext.models.registry import create_model
from tests._eval_helpers import write_synth_layout

FIXTURE = Path(__file__).parent / "data" / "dehazeformer_official_outputs.npz"
# sum(p.numel() for p in net.parameters()) of the official dehazeformer_t() .. dehazeformer_l()
OFFICIAL_PARAMS = {"t": 687_404, "s": 1_284_884, "b": 2_517_612, "m": 4_635_952, "l": 25_451_652}
OFFICIAL_DEPTHS = {"t": 16, "s": 32, "b": 64, "m": 48, "l": 72}  # sum(depths) of each config


def _seeded_weights(shapes: dict[str, tuple[int, ...]]) -> dict[str, torch.Tensor]:
    """The fixture's weights: one generator per parameter (sorted names, seed 1000 + index);
    weights std 0.5 / sqrt(fan_in), 1-D tensors (biases) std 0.05."""
    out = {}
    for index, key in enumerate(sorted(shapes)):
        shape = shapes[key]
        noise = torch.randn(shape, generator=torch.Generator().manual_seed(1000 + index))
        out[key] = (
            0.05 * noise if len(shape) == 1 else noise * (0.5 / math.sqrt(math.prod(shape[1:])))
        )
    return out


def _authors_file(tmp_path: Path, name: str, *, wrap: bool = True, prefix: str = "module."):
    """A checkpoint in the authors' format for dehazeformer-NAME with the seeded weights."""
    model = create_model(f"dehazeformer-{name}")
    state = model.state_dict()
    state.update(_seeded_weights({k: tuple(p.shape) for k, p in model.named_parameters()}))
    state = {prefix + k: v for k, v in state.items()}
    path = tmp_path / f"dehazeformer-{name}.pth"
    torch.save({"state_dict": state} if wrap else state, path)
    return path


@pytest.fixture(scope="module")
def official():
    with np.load(FIXTURE, allow_pickle=False) as data:
        loaded = {key: data[key] for key in data.files}
    fixture = {"input_seed": int(loaded["input_seed"])}
    fixture["input_shape"] = tuple(int(n) for n in loaded["input_shape"])
    for name in "tbm":
        fixture[name] = {
            "output": torch.from_numpy(loaded[f"{name}_output"]),
            "state_dict_sha256": str(loaded[f"{name}_state_dict_sha256"]),
            "num_keys": int(loaded[f"{name}_num_keys"]),
        }
    return fixture


def _fixture_input(official) -> torch.Tensor:
    generator = torch.Generator().manual_seed(official["input_seed"])
    return torch.rand(official["input_shape"], generator=generator) * 2 - 1  # authors' [-1, 1]


@pytest.mark.parametrize("name", ["t", "b", "m"])
def test_authors_checkpoint_gives_the_official_outputs(name, official, tmp_path):
    model = irnext.load_baseline_weights(_authors_file(tmp_path, name))
    assert model.irnext_spec["name"].startswith(f"dehazeformer-{name} ")
    listing = "\n".join(f"{k}:{tuple(v.shape)}" for k, v in sorted(model.state_dict().items()))
    assert hashlib.sha256(listing.encode()).hexdigest() == official[name]["state_dict_sha256"]
    assert len(model.state_dict()) == official[name]["num_keys"]
    x, expected = _fixture_input(official), official[name]["output"]
    with torch.no_grad():
        raw = model((x + 1) / 2) * 2 - 1  # ours on [0, 1] back to the authors' [-1, 1]
    assert torch.allclose(raw, expected, atol=1e-5, rtol=0)
    # Their test.py: net(x).clamp(-1, 1) * 0.5 + 0.5; ours: restore() on the [0, 1] image.
    restored = restore(model, (x[0] + 1) / 2)
    assert torch.allclose(restored, expected[0].clamp(-1, 1) * 0.5 + 0.5, atol=1e-5, rtol=0)
    assert (expected.abs() > 1).any()  # the clamp is exercised


@pytest.mark.parametrize("wrap, prefix", [(False, "module."), (True, ""), (False, "")])
def test_bare_state_dicts_and_unprefixed_keys_load_too(wrap, prefix, official, tmp_path):
    model = irnext.load_baseline_weights(_authors_file(tmp_path, "t", wrap=wrap, prefix=prefix))
    with torch.no_grad():
        raw = model((_fixture_input(official) + 1) / 2) * 2 - 1
    assert torch.allclose(raw, official["t"]["output"], atol=1e-5, rtol=0)


@pytest.mark.parametrize("name", ["s", "l"])
def test_every_variant_is_detected_from_its_keys_and_shapes(name, tmp_path):
    model = irnext.load_baseline_weights(_authors_file(tmp_path, name))
    assert model.irnext_spec["name"].startswith(f"dehazeformer-{name} ")
    assert sum(p.numel() for p in model.parameters()) == OFFICIAL_PARAMS[name]


@pytest.mark.parametrize("name", sorted(OFFICIAL_PARAMS))
def test_parameter_counts_equal_the_official_models(name):
    # Every parameter, RLN weight and bias included (the paper's table is a little lower).
    model = create_model(f"dehazeformer-{name}")
    assert sum(p.numel() for p in model.parameters()) == OFFICIAL_PARAMS[name]


def test_mismatching_or_foreign_keys_are_named_errors(tmp_path):
    path = _authors_file(tmp_path, "t")
    state = torch.load(path, weights_only=True)["state_dict"]
    del state["module.layer2.blocks.3.mlp.mlp.2.bias"]
    torch.save({"state_dict": state}, path)
    with pytest.raises(InputError, match=r"dehazeformer-t\.pth.*layer2\.blocks\.3\.mlp\.mlp\.2"):
        irnext.load_baseline_weights(path)
    state["module.layer2.blocks.3.mlp.mlp.2.bias"] = torch.zeros(5)
    torch.save({"state_dict": state}, path)
    with pytest.raises(InputError, match=r"shape \(5,\)"):
        irnext.load_baseline_weights(path)
    state = torch.load(_authors_file(tmp_path, "t"), weights_only=True)["state_dict"]
    moved = {k: v for k, v in state.items() if ".layer2.blocks.3." not in k or "norm1" not in k}
    torch.save(moved, path)  # attention without its RLN
    with pytest.raises(InputError, match="layer2 has attention in blocks"):
        irnext.load_baseline_weights(path)
    torch.save({"weight": torch.zeros(3)}, path)
    with pytest.raises(InputError, match="dehazeformer-t.pth"):
        irnext.load_baseline_weights(path)


def test_cli_evaluates_the_authors_checkpoint(tmp_path):
    write_synth_layout(tmp_path / "data", count=1, size=(30, 44))
    out = tmp_path / "eval"
    argv = ["evaluate", "--baseline-weights", str(_authors_file(tmp_path, "t"))]
    argv += ["--dataset", "synth-haze", "--root", str(tmp_path / "data"), "--out", str(out)]
    assert main([*argv, "--device", "cpu"]) == 0
    summary = read_summary(out / "summary.json")
    assert summary["model"].startswith("dehazeformer-t") and summary["count"] == 1


@pytest.mark.parametrize("pads", [(0, 3, 0, 3), (4, 7, 4, 1), (2, 2, 2, 2), (0, 7, 0, 0)])
@pytest.mark.parametrize("size", [(1, 1), (3, 5), (4, 8), (7, 9), (8, 8), (12, 31)])
def test_padding_is_torchs_reflection_wherever_that_runs(pads, size):
    x = torch.rand(1, 2, *size)
    try:
        expected = F.pad(x, pads, mode="reflect")  # what the official code calls
    except RuntimeError:  # reflection cannot pad by the side or more: edges replicated
        expected = F.pad(x, pads, mode="replicate")
    assert torch.equal(reflect_pad(x, pads), expected)


def test_restore_works_at_every_size_from_one_pixel():
    # The official forward fails below 25 px (1/4-scale windows padded by more than their side).
    torch.manual_seed(0)
    model = create_model("dehazeformer-t").eval()
    sizes = [(side, side) for side in range(1, 41)] + [(97, 131), (257, 263)]
    for height, width in sizes:
        image = torch.rand(3, height, width)
        out = restore(model, image)
        assert out.shape == image.shape and torch.isfinite(out).all(), (height, width)


def _init_groups(model) -> dict[str, list[tuple[str, torch.Tensor]]]:
    groups: dict[str, list[tuple[str, torch.Tensor]]] = {}
    for key, value in model.state_dict().items():
        if ".blocks." not in key:
            continue
        if ".norm1.meta" in key:
            group = key.split(".norm1.")[1]  # meta1.weight, meta1.bias, meta2.*
        elif ".norm1." in key:
            group = "norm." + key.rsplit(".", 1)[1]
        elif ".attn.QK." in key:
            group = "QK." + key.rsplit(".", 1)[1]
        elif ".attn.attn." in key:
            continue  # nn.Linear's default initialisation
        else:
            group = "gain." + key.rsplit(".", 1)[1]  # attn.conv/V/proj and mlp convs
        groups.setdefault(group, []).append((key, value))
    return groups


@pytest.mark.parametrize("name", ["t", "m"])
def test_initialisation_follows_the_authors(name):
    torch.manual_seed(0)
    model = create_model(f"dehazeformer-{name}")
    gain = (8 * OFFICIAL_DEPTHS[name]) ** -0.25
    groups = _init_groups(model)
    assert set(groups) >= {"gain.weight", "gain.bias", "QK.weight", "meta1.weight", "norm.weight"}
    for group, tensors in groups.items():
        if group.endswith("bias") or group.startswith("norm."):
            fill = 1.0 if group in ("meta1.bias", "norm.weight") else 0.0
            for key, value in tensors:
                assert torch.equal(value, torch.full_like(value, fill)), key
            continue
        standardised = []
        for key, value in tensors:
            fans = (value.shape[0] + value.shape[1]) * math.prod(value.shape[2:])
            std = 0.02 if group.startswith("meta") else math.sqrt(2 / fans)
            std *= gain if group == "gain.weight" else 1.0
            standardised.append(value.flatten() / std)
            # Sample std of n normals: relative error ~ 1 / sqrt(2n); 5 of those, plus a floor.
            tolerance = 5 / math.sqrt(2 * value.numel()) + 0.02
            assert abs(value.std().item() / std - 1) < tolerance, (key, value.std().item(), std)
        pooled = torch.cat(standardised)
        assert abs(pooled.std().item() - 1) < 5 / math.sqrt(2 * pooled.numel()) + 0.005, group
        assert abs(pooled.mean().item()) < 5 / math.sqrt(pooled.numel()), group


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"embed_dims": (24, 48, 96, 40, 24)}, "embed_dims"), ({"conv_type": "conv"}, "conv_type")],
)
def test_bad_configurations_are_named(kwargs, message):
    with pytest.raises(InputError, match=message):
        create_model("dehazeformer-t", **kwargs)
