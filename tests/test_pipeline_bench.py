"""The pipeline's cells (`irnext bench`), profiles and dvc.yaml wiring, checked without DVC."""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

import numpy as np
import pytest
import yaml

from irnext.cli import build_parser, main
from irnext.cli.train import config_from_args
from irnext.errors import InputError
from irnext.pipeline.cell import evaluate_commands, resolve_model, task_data, train_command
from irnext.pipeline.profile_schema import check_params
from irnext.pipeline.summary import largest_error_window, metrics_of

REPO = Path(__file__).resolve().parents[1]
PROFILES = {p.stem: yaml.safe_load(p.read_text()) for p in (REPO / "profiles").glob("*.yaml")}


def _args(**values) -> argparse.Namespace:
    return argparse.Namespace(datasets=Path("datasets.yaml"), cell="cell", **values)


def test_the_three_profiles_exist_and_pass_the_schema():
    assert set(PROFILES) == {"default", "gpu", "paper"}
    for name, params in PROFILES.items():
        assert check_params(params, source=REPO / "params.yaml") == [], name


def test_params_yaml_is_the_default_profile():
    assert yaml.safe_load((REPO / "params.yaml").read_text()) == PROFILES["default"]


# The transformer baselines of the default's miniatures: Restormer (Zamir et al., CVPR 2022) and
# Uformer (Wang et al., CVPR 2022) are transformer architectures; NAFNet is a CNN.
TRANSFORMERS = {"restormer-mini", "uformer-mini"}


def test_the_default_profile_compares_irnext_with_two_transformers_on_all_tasks():
    params = PROFILES["default"]
    assert params["tasks"] == ["haze", "motion-blur", "defocus", "rain", "snow"]
    assert params["models"][0] == "irnext-mini"
    assert len(TRANSFORMERS & set(params["models"])) >= 2
    assert set(params["cost_models"]) == set(params["models"])
    assert {"components", "depth"} <= set(params["ablate"]["studies"])
    assert len(params["ablate"]["seeds"]) >= 2


def test_every_profile_trains_at_least_three_seeds():
    for name, params in PROFILES.items():
        assert len(set(params["seeds"])) >= 3, name
        assert len(set(params["ablate"]["seeds"])) >= 3, name


def test_every_model_of_a_task_trains_with_the_same_recipe():
    params = PROFILES["default"]
    parser = build_parser("train")
    configs = {}
    for model in params["models"]:
        command = train_command(params, _args(task="snow", model=model, seed=1))
        parsed = parser.parse_args(command)  # the real `irnext train` parser takes it
        assert parsed.model == model and parsed.dataset == "synth-snow"
        assert parsed.out == Path(f"models/snow/{model}-s1.pt")
        assert parsed.timing == Path(f"results/train/snow/{model}-s1.run.json")
        configs[model] = config_from_args(parsed)
    first = next(iter(configs.values()))
    assert all(config == first for config in configs.values())
    recipe = params["train"]
    assert (first.epochs, first.lr, first.patch_size) == (
        recipe["epochs"],
        recipe["lr"],
        recipe["patch_size"],
    )
    assert first.grad_clip is None and first.seed == 1  # null in the profile: no clipping


@pytest.mark.parametrize(
    "task, expected",
    [
        ("haze", "irnext-dehaze"),
        ("snow", "irnext-desnow"),
        ("motion-blur", "irnext-motion-deblur"),
        ("defocus", "irnext-defocus-deblur"),
        ("rain", "irnext-derain"),
    ],
)
def test_irnext_stands_for_each_tasks_published_configuration(task, expected):
    assert resolve_model("irnext", task) == expected
    assert resolve_model("restormer", task) == "restormer"


def test_cells_score_on_the_tasks_test_set_and_the_identity_too():
    params = PROFILES["default"]
    (cell,) = evaluate_commands(params, _args(task="rain", model="nafnet-mini", seed=0))
    assert cell[:3] == ["evaluate", "--checkpoint", "models/rain/nafnet-mini-s0.pt"]
    assert cell[cell.index("--dataset") + 1] == "synth-rain"
    assert cell[-1] == "results/evaluate/rain/nafnet-mini-s0"
    identity = argparse.Namespace(datasets=Path("datasets.yaml"), cell="identity", task="rain")
    (command,) = evaluate_commands(params, identity)
    assert (
        command[1:3] == ["--model", "identity"] and command[-1] == "results/evaluate/rain/identity"
    )


def test_the_paper_profile_reads_the_roots_from_datasets_yaml(tmp_path):
    params = PROFILES["paper"]
    datasets = tmp_path / "datasets.yaml"
    roots = {"gopro": "/data/GoPro", "hide": "/data/HIDE", "realblur-j": "/data/RBJ"}
    datasets.write_text(yaml.safe_dump({"datasets": {**roots, "realblur-r": None}}))
    with pytest.raises(InputError, match=r"datasets.yaml: datasets.realblur-r is not set"):
        task_data(params, "motion-blur", datasets)
    datasets.write_text(yaml.safe_dump({"datasets": {**roots, "realblur-r": "/data/RBR"}}))
    data = task_data(params, "motion-blur", datasets)
    assert data["train"] == ("gopro", "/data/GoPro") and data["recipe"] == "gopro"
    assert [name for name, _ in data["tests"]] == ["gopro", "hide", "realblur-j", "realblur-r"]
    args = argparse.Namespace(datasets=datasets, cell="cell", task="motion-blur", model="irnext")
    args.seed = 0
    commands = evaluate_commands(params, args)
    outs = [command[-1] for command in commands]  # one folder per test set
    assert outs[1] == "results/evaluate/motion-blur/irnext-s0/hide"
    train = build_parser("train").parse_args(train_command(params, args))
    assert train.recipe == "gopro" and train.model == "irnext-motion-deblur"
    assert train.epochs is None  # every value but the workers from the recipe


def _summary(folder: Path, dataset: str, psnr: float, ssim: float, **extra) -> None:
    folder.mkdir(parents=True)
    means = {"psnr_db": psnr, "ssim": ssim}
    summary = {"model": folder.name, "dataset": dataset, "split": "test", "count": 2}
    summary.update({"protocol": "dehaze_pooled", "means": means, **extra})
    (folder / "summary.json").write_text(json.dumps(summary))
    rows = [f"i{i},{dataset}/test,p{i},,8,8,{psnr},{ssim}" for i in range(2)]
    header = "name,test_set,scene,group,height,width,psnr_db,ssim"
    (folder / "per_image.csv").write_text("\n".join([header, *rows]) + "\n")


def test_metrics_are_means_over_seeds_with_their_spread(tmp_path):
    folder = tmp_path / "evaluate" / "haze"
    _summary(folder / "identity", "synth-haze", 12.0, 0.5)
    _summary(folder / "a-s0", "synth-haze", 20.0, 0.7)
    _summary(folder / "a-s1", "synth-haze", 22.0, 0.9)
    table = metrics_of(tmp_path, "haze", ["a"], [0, 1])
    assert table["identity"] == {"psnr_db": 12.0, "ssim": 0.5, "seeds": 1}
    # mean 21, sample standard deviation sqrt(((20-21)^2 + (22-21)^2) / 1) = 1.4142
    assert table["a"] == {"psnr_db": 21.0, "ssim": 0.8, "seeds": 2, "psnr_db_std_seeds": 1.4142}
    one = metrics_of(tmp_path, "haze", ["a"], [0])  # one seed: no spread is claimed
    assert one["a"] == {"psnr_db": 20.0, "ssim": 0.7, "seeds": 1}


@pytest.mark.parametrize(("seeds", "message"), [([0, 0], "repeat"), ([], "non-empty")])
def test_metrics_refuse_repeated_or_empty_seeds(tmp_path, seeds, message):
    _summary(tmp_path / "evaluate" / "haze" / "identity", "synth-haze", 12.0, 0.5)
    _summary(tmp_path / "evaluate" / "haze" / "a-s0", "synth-haze", 20.0, 0.7)
    with pytest.raises(InputError, match=message):
        metrics_of(tmp_path, "haze", ["a"], seeds)


def test_metrics_refuse_a_run_of_another_protocol(tmp_path):
    folder = tmp_path / "evaluate" / "haze"
    _summary(folder / "identity", "synth-haze", 12.0, 0.5)
    _summary(folder / "a-s0", "synth-haze", 20.0, 0.7, protocol="matlab_y")
    with pytest.raises(InputError, match="a-s0/summary.json: protocol 'matlab_y' differs"):
        metrics_of(tmp_path, "haze", ["a"], [0])


def test_the_visual_crop_is_the_window_of_largest_error():
    rng = np.random.default_rng(3)
    error = rng.random((20, 24))
    error[9:13, 15:19] += 2.0  # a 4 x 4 patch of large error
    top, left, side = largest_error_window(error, 4)
    sums = {
        (t, s): error[t : t + 4, s : s + 4].sum() for t in range(17) for s in range(21)
    }  # brute force over every window
    assert (top, left, side) == (*max(sums, key=sums.get), 4) == (9, 15, 4)


def test_profile_command_replaces_params_only_with_a_valid_profile(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "profiles").mkdir()
    (tmp_path / "profiles" / "gpu.yaml").write_text((REPO / "profiles/gpu.yaml").read_text())
    (tmp_path / "profiles" / "broken.yaml").write_text("profile: broken\ntasks: [fog]\n")
    (tmp_path / "params.yaml").write_text("untouched: true\n")
    assert main(["profile", "broken"]) == 2
    assert (tmp_path / "params.yaml").read_text() == "untouched: true\n"
    assert main(["profile", "gpu"]) == 0
    assert (tmp_path / "params.yaml").read_text() == (REPO / "profiles/gpu.yaml").read_text()


def _dotted(params: dict, dotted: str) -> bool:
    node = params
    for key in dotted.split("."):
        if not isinstance(node, dict) or key not in node:
            return False
        node = node[key]
    return True


@pytest.mark.parametrize("profile", ["default", "gpu", "paper"])
def test_every_value_dvc_yaml_reads_is_in_every_profile(profile):
    params = PROFILES[profile]
    text = (REPO / "dvc.yaml").read_text()
    stages = yaml.safe_load(text)["stages"]
    used = set(re.findall(r"\$\{([a-z_][a-z0-9_.]*)\}", text)) - {"item", "key"}
    used = {name for name in used if not name.startswith(("item.", "key."))}
    for stage in stages.values():
        for entry in (stage.get("do") or stage).get("params", []):
            used.add(entry)
    missing = sorted(name for name in used if not _dotted(params, name))
    assert missing == []


def test_an_ablation_on_a_task_the_profile_does_not_build_is_refused():
    from irnext.pipeline.stages import ablate_command

    params = {**PROFILES["default"], "tasks": ["rain"]}
    with pytest.raises(InputError, match="ablate.task 'haze' is not one of tasks"):
        ablate_command(params, "depth", [])
    command = ablate_command(PROFILES["default"], "depth", ["--epochs", "9", "--lr", "0.5"])
    parsed = build_parser("ablate").parse_args(command)
    assert parsed.epochs == PROFILES["default"]["ablate"]["epochs"]  # the study's own budget
    assert parsed.lr == 0.5 and parsed.seeds == PROFILES["default"]["ablate"]["seeds"]


def test_the_visual_shows_the_images_the_models_differ_most_on(tmp_path):
    from irnext.pipeline.summary import differing_images

    scores = {"a": [20.0, 21.0, 22.0, 23.0], "b": [20.0, 25.0, 22.5, 22.0]}
    for model, psnr in scores.items():
        folder = tmp_path / "evaluate" / "haze" / f"{model}-s0"
        folder.mkdir(parents=True)
        rows = [f"i{i},synth-haze/test,p,,8,8,{v},0.5" for i, v in enumerate(psnr)]
        header = "name,test_set,scene,group,height,width,psnr_db,ssim"
        (folder / "per_image.csv").write_text("\n".join([header, *rows]) + "\n")
    # spreads: i0 0, i1 4, i2 0.5, i3 1 -> the three largest, largest first
    assert differing_images(tmp_path, "haze", ["a", "b"], 0, 3) == ["i1", "i3", "i2"]
    with pytest.raises(InputError, match="c-s0/per_image.csv: missing"):
        differing_images(tmp_path, "haze", ["a", "c"], 0, 3)


def test_batch_one_is_refused_only_for_a_profile_with_batch_norm_models():
    import copy

    params = copy.deepcopy(PROFILES["default"])
    params["train"]["batch_size"] = 1
    (problem,) = check_params(params, source=REPO / "params.yaml")
    assert problem.startswith("models: irnext-mini: train.batch_size 1 x 1 process(es)")
    params["models"] = ["restormer-mini", "uformer-mini"]  # no BatchNorm: batch 1 trains
    assert check_params(params, source=REPO / "params.yaml") == []
