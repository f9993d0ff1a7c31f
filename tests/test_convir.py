"""ConvIR (Cui et al., TPAMI 2024; github c-yn/ConvIR@05dcbff): the suite's network against
the release's module structure (tests/reference_convir.py), its published sizes, and checkpoint
files in the release's format ({'model': state_dict}, the release's key names)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from irnext.cli import main
from irnext.errors import InputError
from irnext.models.convir import ConvIR
from irnext.models.official import load_official_checkpoint, to_official
from irnext.models.registry import create_model
from irnext.report.published import published_vs_reproduced
from tests._data_helpers import make_layout
from tests.reference_convir import official_convir
from tests.reference_irnext import randomize_

REPO = Path(__file__).resolve().parents[1]


def _release_state(num_res: int, dilations=(7, 9, 11), seed: int = 0):
    """The release-structured reference (eval mode, every tensor random) and its state_dict."""
    torch.manual_seed(seed)
    model = randomize_(official_convir(num_res, dilations), seed)
    with torch.no_grad():  # strip attention's gates start at 0 / 1: make them count
        for name, tensor in model.named_parameters():
            if name.endswith(("gamma", "beta")):
                tensor.copy_(0.5 * torch.randn(tensor.shape))
    return model.eval(), model.state_dict()


def test_parameter_counts_are_the_readmes():
    # ConvIR README (05dcbff), "Parameters": S 5.53 M, B 8.63 M, L 14.83 M. By hand: IRNeXt's
    # release at num_res 4 / 8 / 16 (5,455,241 / 8,555,401 / 14,755,721, counted by running the
    # official IRNeXt) plus strip attention in 3 branches of 6 MSMs: per branch of C channels
    # two 1x1 convs C -> 8 groups x 3 taps (48C), W, lambda_l, lambda_h of each strip (6C),
    # gamma and beta (2C): 56C, over C = 2 x (32 + 64 + 128) = 448: 3 x 56 x 448 = 75,264.
    counts = {size: (ConvIR(num_res=n), n) for size, n in (("S", 4), ("B", 8), ("L", 16))}
    irnext = {4: 5_455_241, 8: 8_555_401, 16: 14_755_721}
    for size, (model, num_res) in counts.items():
        total = sum(p.numel() for p in model.parameters())
        assert total == irnext[num_res] + 75_264
        assert round(total / 1e6, 2) == {"S": 5.53, "B": 8.63, "L": 14.83}[size]


def test_the_release_key_layout_hand_derived():
    _, state = _release_state(4)
    # IRNeXt's release at num_res 4 has 326 entries; ConvIR keeps them (each branch's LAM
    # moved under `square_att`) and adds 10 per branch: H/W strips (conv.weight, inside_all,
    # lamb_l, lamb_h) and gamma, beta, in 6 MSMs x 3 branches: 326 + 180 = 506.
    assert len(state) == 506
    prefix = "Encoder.2.layers.3.main.1.dynas."
    assert state[prefix + "0.strip_att.H_spatial_att.conv.weight"].shape == (24, 128, 1, 1)
    assert state[prefix + "2.square_att.conv.weight"].shape == (72, 128, 1, 1)
    assert state["Decoder.2.layers.3.main.1.dynas.1.square_att.bn.running_var"].shape == (72,)
    assert state["Decoder.2.layers.3.main.1.dynas.1.strip_att.gamma"].shape == (32, 1, 1)
    # The suite's ConvIR names every one of them, and nothing else.
    ours = to_official(ConvIR().state_dict())
    assert sorted(ours) == sorted(state)
    assert all(ours[k].shape == state[k].shape for k in state)


@pytest.mark.slow  # builds the release sizes twice (~5 s each on 2 cores)
@pytest.mark.parametrize("size, num_res", [("S", 4), ("B", 8), ("L", 16)])
def test_a_release_file_of_each_size_loads_whole_and_strictly(tmp_path, size, num_res):
    _, state = _release_state(num_res)
    path = tmp_path / f"convir-{size}.pkl"
    torch.save({"model": state}, path)  # the release's train.py: {'model': state_dict}
    model = load_official_checkpoint(path)
    assert type(model) is ConvIR and model.config["num_res"] == num_res
    assert model.irnext_spec["architecture"] == "ConvIR"
    loaded = to_official(model.state_dict())
    assert sorted(loaded) == sorted(state)
    assert all(torch.equal(loaded[k], state[k]) for k in state)


@pytest.mark.slow  # two forward passes, each of the two networks (~8 s)
@pytest.mark.parametrize("dilations, side", [((7, 9, 11), 256), ((3, 7, 9), 128)])
def test_outputs_equal_the_release_structure(tmp_path, dilations, side):
    # One block per stage keeps this fast; the MSM (the part ConvIR changes) is in every stage.
    reference, state = _release_state(1, dilations)
    torch.save({"model": state}, tmp_path / "w.pkl")
    model = load_official_checkpoint(tmp_path / "w.pkl", filter_dilations=dilations)
    assert model.min_size == side  # the coarsest pooled map exceeds the largest reflect pad
    x = torch.rand(1, 3, side, side + 32)
    with torch.no_grad():
        for ours, theirs in zip(model(x), reference(x), strict=True):
            torch.testing.assert_close(ours, theirs, rtol=1e-4, atol=1e-4)


@pytest.mark.slow  # two forward passes at 256 px
def test_the_dilations_change_the_output_and_are_refused_for_irnext_files(tmp_path):
    _, state = _release_state(1)
    torch.save({"model": state}, tmp_path / "w.pkl")
    x = torch.rand(1, 3, 256, 256)
    with torch.no_grad():
        default = load_official_checkpoint(tmp_path / "w.pkl")(x)[-1]
        derain = load_official_checkpoint(tmp_path / "w.pkl", filter_dilations=(3, 7, 9))(x)[-1]
    assert not torch.allclose(default, derain)
    irnext_file = tmp_path / "irnext.pkl"
    torch.save({"model": to_official(create_model("irnext-dehaze").state_dict())}, irnext_file)
    with pytest.raises(InputError, match="an IRNeXt file"):
        load_official_checkpoint(irnext_file, filter_dilations=(3, 7, 9))


def test_a_file_missing_the_strip_attention_of_one_branch_is_named(tmp_path):
    _, state = _release_state(4)
    key = "Encoder.1.layers.3.main.1.dynas.2.strip_att.W_spatial_att.lamb_h"
    del state[key]
    torch.save({"model": state}, tmp_path / "w.pkl")
    with pytest.raises(InputError, match=f"official ConvIR layout; missing .*'{key}'"):
        load_official_checkpoint(tmp_path / "w.pkl")


@pytest.mark.slow  # three forward passes of the release sizes at 256 px (~25 s on 2 cores)
@pytest.mark.parametrize("name", ["convir-s-dehaze", "convir-b-desnow", "convir-l-derain"])
def test_each_size_restores_to_finite_outputs_of_the_input_size(name):
    import irnext

    model = create_model(name).eval()
    image = torch.rand(3, 70, 90)  # below min_size: padded, restored, cropped back
    restored = irnext.restore(model, image)
    assert restored.shape == image.shape and torch.isfinite(restored).all()


@pytest.mark.slow  # two forward passes of ConvIR-S at 256 px
def test_the_paper_profile_scores_a_convir_release_file_on_csd(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    params = yaml.safe_load((REPO / "profiles/paper.yaml").read_text())
    weights = tmp_path / params["pretrained"]["convir-s-csd"]["weights"]  # the README's name
    weights.parent.mkdir()
    torch.save({"model": _release_state(4)[1]}, weights)
    make_layout("csd", tmp_path / "CSD")  # CSD's Test/Snow, Test/Gt, two 20 x 24 images
    (tmp_path / "datasets.yaml").write_text(yaml.safe_dump({"datasets": {"csd": "CSD"}}))
    params["paper"]["snow"]["test"] = ["csd"]
    params["evaluate"]["device"] = "cpu"
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    assert main(["bench", "pretrained", "--name", "convir-s-csd"]) == 0
    folder = tmp_path / "results/pretrained/convir-s-csd"
    assert sorted(p.name for p in folder.iterdir()) == ["csd"]  # CSD's protocol is the release's
    summary = json.loads((folder / "csd/summary.json").read_text())
    assert summary["protocol"] == "dehaze_pooled_release" and summary["count"] == 2
    assert summary["weights_sha256"] == hashlib.sha256(weights.read_bytes()).hexdigest()
    assert np.isfinite(summary["means"]["psnr_db"])
    quality = yaml.safe_load((REPO / "benchmarks/published/quality.yaml").read_text())
    table = published_vs_reproduced(tmp_path / "results", quality).set_index("release")
    row = table.loc["convir-s-csd"]
    # ConvIR README: CSD 38.43 dB for ConvIR-S; two images, each its own scene.
    assert (row["model"], row["published (dB)"], row["same protocol"]) == (
        "convir-s-desnow",
        "38.43",
        "yes",
    )
    assert (row["scenes"], row["images"]) == (2, 2)
    assert row["reproduced (dB)"] == f"{summary['means']['psnr_db']:.2f}"


def test_the_deraining_entry_hands_its_dilations_to_the_loader(tmp_path, monkeypatch):
    from irnext.pipeline.stages import pretrained_commands

    monkeypatch.chdir(tmp_path)
    params = yaml.safe_load((REPO / "profiles/paper.yaml").read_text())
    entry = params["pretrained"]["convir-l-derain"]
    # c-yn/ConvIR@05dcbff Image_deraining/models/layers.py: dilations 3, 7, 9 (7, 9, 11 elsewhere)
    assert entry["filter_dilations"] == [3, 7, 9] and entry["task"] == "rain"
    make_layout("test100", tmp_path / "Test100")
    (command,) = pretrained_commands(params, "convir-l-derain", [("test100", "Test100")])
    assert command[command.index("--filter-dilations") :][:4] == [
        "--filter-dilations",
        "3",
        "7",
        "9",
    ]
    weights = tmp_path / entry["weights"]
    weights.parent.mkdir()
    torch.save({"model": _release_state(4, dilations=(3, 7, 9))[1]}, weights)
    command[command.index("--device") + 1] = "cpu"
    assert main(command) == 0
    out = Path(command[command.index("--out") + 1])
    summary = json.loads((out / "summary.json").read_text())
    assert summary["model"] == "convir-official (convir-l-derain.pkl)"  # never labelled IRNeXt
    wrong = [*command[: command.index("--filter-dilations")], "--out", str(tmp_path / "wrong")]
    assert (
        main(wrong) == 0
    )  # the file loads with the default (7, 9, 11) too, but restores otherwise
    other = json.loads((tmp_path / "wrong/summary.json").read_text())
    assert other["means"]["psnr_db"] != summary["means"]["psnr_db"]


def test_filter_dilations_are_refused_for_a_suite_checkpoint_or_a_bad_entry(
    tmp_path, capsys, monkeypatch
):
    from irnext.pipeline.paper import check_pretrained

    monkeypatch.chdir(tmp_path)
    make_layout("test100", tmp_path / "T")
    argv = [
        "evaluate",
        "--model",
        "identity",
        "--dataset",
        "test100",
        "--root",
        str(tmp_path / "T"),
    ]
    assert main([*argv, "--filter-dilations", "3", "7", "9"]) == 2
    assert "only with --official-irnext" in capsys.readouterr().err
    entry = {"weights": "w.pkl", "kind": "irnext", "task": "rain", "filter_dilations": [3, 7]}
    with pytest.raises(InputError, match=r"filter_dilations = \[3, 7\]; expected three"):
        check_pretrained(entry, "params.yaml: pretrained.x")
