"""Names read from files never become paths unchecked; outputs stay under their folder."""

from __future__ import annotations

import json

import pytest

import irnext
from irnext.checkpoint import save_checkpoint
from irnext.cli import main
from irnext.names import MAX_NAME_LENGTH, UnsafeNameError, check_name, check_under
from irnext.report import render_report
from tests._eval_helpers import write_synth_layout

SMALL = dict(num_res=1, width=8, filter_groups=2)


@pytest.mark.parametrize(
    "name",
    ["irnext-test", "nafnet-mini+tlc", "irnext-official (GoPro.pth)", "gopro-test", "v1.2_a"],
)
def test_the_suites_own_names_are_allowed(name):
    assert check_name(name, what="model_name", source="x.pt") == name


@pytest.mark.parametrize(
    "name",
    ["", ".", "..", "../x", "a/b", "a\\b", "/abs", ".hidden", "a..b", "a\0b", "a\nb", "-x"]
    + ["x" * (MAX_NAME_LENGTH + 1), None, 5, ["a"]],
)
def test_unsafe_names_are_refused_naming_value_source_and_form(name):
    with pytest.raises(UnsafeNameError) as caught:
        check_name(name, what="study", source="results/ablations/s.json")
    message = str(caught.value)
    assert message.startswith("results/ablations/s.json: study = ")
    assert repr(name)[:20] in message and "expected 1 to 128 characters" in message


def test_check_under_follows_links_and_dots(tmp_path):
    root = tmp_path / "results"
    (root / "ok").mkdir(parents=True)
    (root / "away").symlink_to(tmp_path)  # a link inside root that leads out of it
    assert check_under(root / "ok" / "a.png", root, what="figure") == root / "ok" / "a.png"
    for path in (root / ".." / "a.png", root / "away" / "a.png"):
        with pytest.raises(UnsafeNameError) as caught:
            check_under(path, root, what="figure")
        assert str(path) in str(caught.value) and str(root.resolve()) in str(caught.value)


def test_a_checkpoint_model_name_cannot_send_evaluate_outside_results(
    tmp_path, monkeypatch, capsys
):
    work = tmp_path / "a" / "b" / "work"  # results/evaluate/../../../ leads to tmp_path/a/b
    work.mkdir(parents=True)
    monkeypatch.chdir(work)
    write_synth_layout(work / "data", count=1)
    model = irnext.create_model("irnext-test", **SMALL)
    model.irnext_spec = {**model.irnext_spec, "name": "../../../escaped"}
    checkpoint = save_checkpoint(work / "crafted.pt", model)
    args = ["evaluate", "--checkpoint", str(checkpoint), "--dataset", "synth-haze"]
    assert main([*args, "--root", "data", "--device", "cpu"]) == 2
    error = capsys.readouterr().err
    assert f"{checkpoint}: model_name = '../../../escaped' cannot be part of a file name" in error
    assert sorted(p.name for p in (tmp_path / "a" / "b").iterdir()) == ["work"]
    assert not (work / "results").exists()  # refused before any folder was made


def _ablation(study_name):
    return {
        "study": study_name,
        "title": "t",
        "variants": [{"variant": "full", "params": 1, "runs": []}],
    }


def test_a_study_name_cannot_send_the_report_outside_its_folder(tmp_path):
    results = tmp_path / "r" / "results"
    (results / "ablations").mkdir(parents=True)
    crafted = results / "ablations" / "s.json"
    crafted.write_text(json.dumps(_ablation("../../../x")))
    with pytest.raises(UnsafeNameError) as caught:
        render_report(results, results / "report.md")
    assert str(caught.value).startswith(f"{crafted}: study = '../../../x' cannot be part")
    written = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    assert [str(p) for p in written] == ["r/results/ablations/s.json"]  # no PNG or .tex


def test_a_summary_dataset_name_cannot_name_report_files_outside(tmp_path):
    results = tmp_path / "results"
    folder = results / "evaluate" / "x-run"
    folder.mkdir(parents=True)
    summary = {"model": "m", "means": {}, "dataset": "../../../../tmp/y", "split": "test"}
    (folder / "summary.json").write_text(json.dumps(summary))
    with pytest.raises(UnsafeNameError, match="dataset = '../../../../tmp/y'"):
        render_report(results, results / "report.md")


def test_a_visual_spec_cannot_read_images_outside_its_folder(tmp_path):
    results = tmp_path / "results"
    (results / "visual" / "haze").mkdir(parents=True)
    spec = results / "visual" / "haze" / "visual.json"
    spec.write_text(json.dumps({"models": ["../../../../secret"], "crop": [0, 0, 4]}))
    with pytest.raises(UnsafeNameError, match="models entry = '../../../../secret'"):
        render_report(results, results / "report.md")


@pytest.mark.parametrize("blurred", ["scene/../../../x/blur/b.png", "/etc/scene/blur/b.png"])
def test_a_realblur_list_cannot_name_files_outside_the_root(tmp_path, blurred):
    """Pair names come from the list's paths and name the images evaluate saves."""
    from irnext.data import open_dataset
    from irnext.errors import InputError

    listing = tmp_path / "RealBlur_J_test_list.txt"
    listing.write_text(f"scene/gt/gt_1.png {blurred}\n")
    with pytest.raises(InputError) as caught:
        open_dataset("realblur-j", tmp_path)
    message = str(caught.value)
    assert message.startswith(f"{listing}:1: {blurred!r}: expected a path relative")


@pytest.mark.parametrize("flag", ["--task", "--models"])
def test_collect_refuses_task_and_model_names_that_leave_results(tmp_path, capsys, flag):
    args = {"--task": "haze", "--models": "irnext-mini", flag: "../../x"}
    command = ["collect", "--results", str(tmp_path), "--seeds", "0"]
    assert main([*command, *(part for pair in args.items() for part in pair)]) == 2
    assert "'../../x' cannot be part of a file name" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_report_figures_stay_in_the_figures_folder(tmp_path):
    """The second line of defence behind the name checks of the report loader."""
    from irnext.report.sections import Context

    context = Context(base=tmp_path, figures=tmp_path / "figures", table=None)
    assert context.figure("ablation_x.png") == tmp_path / "figures" / "ablation_x.png"
    with pytest.raises(UnsafeNameError, match="outside the folder it belongs in"):
        context.figure("ablation_x/../../x.png")


def test_an_official_weights_file_name_unfit_for_a_folder_asks_for_out(tmp_path, monkeypatch):
    from irnext.cli.evaluate import _default_out

    monkeypatch.chdir(tmp_path)
    folder = _default_out("irnext-official (GoPro.pkl)", "gopro", "test")
    assert folder.as_posix() == "results/evaluate/irnext-official (GoPro.pkl)-gopro-test"
    with pytest.raises(UnsafeNameError, match=r"or give --out FOLDER\): folder name = "):
        _default_out("irnext-official (v1..v2.pkl)", "gopro", "test")


def test_ablate_refuses_a_study_name_unfit_for_file_names_before_training(tmp_path, capsys):
    from tests.reliability._faults import ROOT

    study = tmp_path / "study.yaml"
    text = (ROOT / "ablations" / "components.yaml").read_text()
    study.write_text(text.replace("name: components", "name: ../../../x", 1))
    out = tmp_path / "out.json"
    args = ["ablate", "--study", str(study), "--dataset", "synth-haze", "--root", str(tmp_path)]
    assert main([*args, "--out", str(out)]) == 2
    assert f"{study}: name = '../../../x' cannot be part" in capsys.readouterr().err
    assert not out.exists()
