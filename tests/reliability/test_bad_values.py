"""Bad configuration values are named errors before anything is built or trained."""

from __future__ import annotations

import pytest
import torch
import yaml

import irnext
from irnext.ablation import load_study
from irnext.checkpoint import FORMAT, load_checkpoint
from irnext.cli import main
from irnext.errors import InputError
from irnext.pipeline.profile import load_params
from irnext.pipeline.profile_schema import check_params
from tests.reliability._faults import ROOT


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(msm="false"), "msm='false' \\(str\\) is not a bool"),
        (dict(msm=1), "msm=1 \\(int\\) is not a bool"),  # an int is not a bool
        (dict(num_res=True), "num_res=True \\(bool\\) is not an integer"),  # nor a bool an int
        (dict(width=32.0), "width=32.0 \\(float\\) is not an integer"),
        (dict(pool_sizes="842"), "pool_sizes='842' \\(str\\) is not a list of integers"),
        (dict(pool_sizes=[8, "4"]), "is not a list of integers"),
        (dict(upsample=None), "upsample=None \\(NoneType\\) is not a string"),
        (dict(widht=16), "unknown keyword 'widht' \\(did you mean 'width'\\?\\)"),
    ],
)
def test_model_keywords_are_checked_by_type(kwargs, message):
    with pytest.raises(InputError, match=message):
        irnext.create_model("irnext-test", **kwargs)


def test_yaml_lists_are_accepted_for_tuples_and_ints_for_floats():
    model = irnext.create_model("irnext-test", pool_sizes=[4, 2], width=16)
    assert tuple(model.config["pool_sizes"]) == (4, 2)
    dehazeformer = irnext.create_model("dehazeformer-t", mlp_ratios=[2, 4, 4, 2, 2])
    assert dehazeformer is not None


def test_unknown_model_names_suggest_the_nearest():
    with pytest.raises(InputError, match="unknown model 'irnext-dehase' \\(did you mean "):
        irnext.create_model("irnext-dehase")
    with pytest.raises(InputError, match="'restormer'"):
        irnext.create_model("restromer")


def test_a_checkpoint_with_a_bad_keyword_value_names_the_file(tmp_path):
    path = tmp_path / "m.pt"
    torch.save(
        {"format": FORMAT, "architecture": "IRNeXt", "model_kwargs": {"lam": "no"},
         "state_dict": {}},
        path,
    )  # fmt: skip
    with pytest.raises(InputError, match="m.pt: architecture 'IRNeXt' .*lam='no'"):
        load_checkpoint(path)


def _study(tmp_path, variant):
    path = tmp_path / "s.yaml"
    study = {"name": "s", "title": "t", "base_model": "irnext-test", "variants": [variant]}
    path.write_text(yaml.safe_dump(study))
    return path


@pytest.mark.parametrize(
    "variant, message",
    [
        ({"name": "v", "train": {"epochs": 2.5}}, "epochs: expected int, got float 2.5"),
        ({"name": "v", "train": {"epochs": "10"}}, "epochs: expected int, got str"),
        ({"name": "v", "model_kwargs": {"lam": "false"}}, "lam='false' \\(str\\) is not a bool"),
    ],
)
def test_study_rows_with_bad_values_are_refused_before_training(tmp_path, variant, message):
    with pytest.raises(InputError, match=message):
        load_study(_study(tmp_path, variant))


def test_the_repository_params_file_is_valid():
    assert check_params(load_params(ROOT / "params.yaml"), source=ROOT / "params.yaml") == []


def _edited_copy(tmp_path, name, edit):
    """The repository's `name` (params.yaml, datasets.yaml) with `edit` applied, in tmp_path."""
    values = load_params(ROOT / name)
    edit(values)
    path = tmp_path / name
    path.write_text(yaml.safe_dump(values))
    return path


def _typo(params):
    params["train"]["epcohs"] = params["train"].pop("epochs")


@pytest.mark.parametrize(
    "edit, expected",
    [
        (lambda p: p["datasets"].update(gopro=3), "datasets.gopro = 3: expected a string or null"),
        (lambda p: p["datasets"].update(gopor="x"), "did you mean datasets.gopro?"),
        (lambda p: p["datasets"].update(gopro=["a"]), "datasets.gopro = ['a']: expected a string"),
        (lambda p: p.update(datasets=["gopro"]), "datasets: expected a mapping"),
    ],
)  # fmt: skip
def test_params_check_reads_the_dataset_roots_too(tmp_path, capsys, edit, expected):
    roots = _edited_copy(tmp_path, "datasets.yaml", edit)
    assert main(["params", "check", str(ROOT / "params.yaml"), "--datasets", str(roots)]) == 2
    assert expected in capsys.readouterr().err


@pytest.mark.parametrize(
    "edit, expected",
    [
        (_typo, "unknown key 'train.epcohs' (did you mean train.epochs?)"),
        (lambda p: p["train"].update(lr="1e-3"), "train.lr: expected a number, got str '1e-3'"),
        (lambda p: p["train"].update(lr=float("nan")), "got lr nan"),
        (lambda p: p["train"].update(batch_size=1), "train.batch_size 1 x 1 process(es) does "
         "not fit IRNeXt: its BatchNorm layers"),  # irnext-mini; the transformers would train
        (lambda p: p["train"].update(grad_clip=0), "train.grad_clip must be > 0"),
        (lambda p: p["train"].update(epochs=True), "train.epochs: expected int, got bool True"),
        (lambda p: p.update(models=["irnext-mnii"]), "did you mean 'irnext-mini'"),
        (lambda p: p.update(tasks=["haze", "fog"]), "tasks = ['haze', 'fog']: 'fog' is not one"),
        (lambda p: p["synth"].pop("seed"), "missing key 'synth.seed'"),
        (lambda p: p.update(seeds=[0, 0]), "seeds = [0, 0]: seed(s) [0] repeat"),
        (lambda p: p.update(seeds=[]), "seeds = []: expected a non-empty list"),
        (lambda p: p["ablate"].update(seeds=[1, 2, 1]), "ablate.seeds = [1, 2, 1]: seed(s) [1]"),
    ],
)  # fmt: skip
def test_params_check_lists_each_problem(tmp_path, capsys, edit, expected):
    path = _edited_copy(tmp_path, "params.yaml", edit)
    assert main(["params", "check", str(path), "--datasets", str(tmp_path / "none.yaml")]) == 2
    assert expected in capsys.readouterr().err


def test_params_check_reports_every_problem_at_once(tmp_path, capsys):
    def two(params):
        _typo(params)
        params["synth"]["seed"] = "0"

    roots = _edited_copy(tmp_path, "datasets.yaml", lambda r: r["datasets"].update(gopro=1))
    params = _edited_copy(tmp_path, "params.yaml", two)
    assert main(["params", "check", str(params), "--datasets", str(roots)]) == 2
    error = capsys.readouterr().err
    assert "3 problem(s)" in error and "train.epcohs" in error and "datasets.gopro" in error
    assert "synth.seed" in error
    good = ["params", "check", str(ROOT / "params.yaml"), "--datasets", str(ROOT / "datasets.yaml")]
    assert main(good) == 0


def test_params_syntax_errors_name_the_file(tmp_path, capsys):
    path = tmp_path / "p.yaml"
    path.write_text("train: [unclosed\n")
    assert main(["params", "check", str(path)]) == 2
    assert f"{path}: not valid YAML" in capsys.readouterr().err


@pytest.mark.parametrize(
    "text, message",
    [
        (None, "file not found \\(expected "),
        ("models: [unclosed\n", "not valid YAML"),
        ("- a list\n- of names\n", "expected a YAML mapping, .*; got list"),
        ("", "expected a YAML mapping, .*; got NoneType"),  # an empty file holds no mapping
    ],
)
def test_every_yaml_input_names_its_file_when_missing_or_malformed(tmp_path, text, message):
    from irnext.cost.complexity import load_published

    path = tmp_path / "input.yaml"
    if text is not None:
        path.write_text(text)
    for reader in (load_study, load_params, load_published):
        with pytest.raises(InputError, match=f"{path}: {message}"):
            reader(path)
