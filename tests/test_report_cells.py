"""The report reads exactly the profile's cells and refuses runs of another test (issue: mixed
runs): each refusal case on the miniature results tree of test_report_layout."""

from __future__ import annotations

import csv
import json
import shutil

import pytest

from irnext.cli import main
from irnext.errors import InputError
from irnext.report import render_report
from irnext.report.cells import Profile
from tests.test_report_layout import OFFSETS, SEEDS, TASKS, build_results

PROFILE = Profile(
    tasks=tuple(TASKS),
    models={task: tuple(OFFSETS) for task in TASKS},
    seeds=SEEDS,
    datasets={task: f"synth-{task}" for task in TASKS},
)


@pytest.fixture
def results(tmp_path):
    return build_results(tmp_path / "results")


def _render(results, profile=PROFILE):
    return render_report(results, results / "report.md", profile=profile).read_text()


def _edit_summary(results, cell, **changes):
    path = results / "evaluate" / cell / "summary.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), **changes}))


def test_a_leftover_model_folder_is_not_read(results):
    for stale in ("haze/old-model-s0", "haze/irnext-mini-s7"):  # a model, a seed not in profile
        shutil.copytree(results / "evaluate/haze/irnext-mini-s0", results / "evaluate" / stale)
    shutil.copy(
        results / "train/haze/irnext-mini-s0.json", results / "train/haze/old-model-s0.json"
    )
    text = _render(results)
    assert "| old-model |" not in text and "old-model |" not in text.split("## Training")[1]
    assert "Not read (not in the profile" in text
    assert "`evaluate/haze/old-model-s0`" in text and "`evaluate/haze/irnext-mini-s7`" in text
    rows = list(csv.DictReader((results / "tables" / "comparisons.csv").open()))
    assert {r["model"] for r in rows} >= set(OFFSETS) - {"irnext-mini"}
    assert "old-model" not in {r["model"] for r in rows}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"dataset": "synth-rain"}, "dataset 'synth-rain' differs"),  # another test set
        ({"split": "train"}, "split 'train' differs"),
        ({"protocol": "matlab_y"}, "protocol 'matlab_y' differs"),  # another protocol
    ],
)
def test_a_run_of_another_test_is_a_named_error(results, change, message):
    _edit_summary(results, "haze/restormer-mini-s1", **change)
    with pytest.raises(InputError, match=message) as caught:
        _render(results)
    assert "restormer-mini-s1/summary.json" in str(caught.value)
    with pytest.raises(InputError, match=message):  # also without a profile
        render_report(results, results / "report.md")


def test_the_task_test_set_must_be_the_profiles(results):
    for cell in ("identity", *(f"{m}-s{s}" for m in OFFSETS for s in SEEDS)):
        _edit_summary(results, f"rain/{cell}", dataset="synth-snow")
    with pytest.raises(InputError, match="the profile's test set of task 'rain' is 'synth-rain'"):
        _render(results)


def test_missing_rows_are_a_named_error(results):
    path = results / "evaluate/haze/nafnet-mini-s0/per_image.csv"
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines[:-1]) + "\n")  # one image fewer than the summary counted
    with pytest.raises(InputError, match="5 rows but its summary.json counted 6"):
        _render(results)
    _edit_summary(results, "haze/nafnet-mini-s0", count=5)  # consistent, but not the test set
    with pytest.raises(InputError, match=r"images differ .*missing \['img5'\]"):
        _render(results)


def test_per_image_scores_without_scenes_are_refused(results):
    path = results / "evaluate/rain/irnext-mini-s1/per_image.csv"
    path.write_text(path.read_text().replace("p1", ""))
    with pytest.raises(InputError, match="no scene for every image"):
        _render(results)


def test_a_missing_cell_is_shown_as_missing(results):
    shutil.rmtree(results / "evaluate/rain/nafnet-mini-s1")
    text = _render(results)
    assert "**Missing cells**" in text and "rain: nafnet-mini-s1" in text
    rain = text.split("### rain\n", 1)[1]
    nafnet = next(line for line in rain.splitlines() if line.startswith("| nafnet-mini |"))
    assert "| 1 |" in nafnet  # one seed left, and the row says so
    rows = list(csv.DictReader((results / "tables" / "comparisons.csv").open()))
    pairs = {(r["task"], r["model"], r["reference"]): r["seeds"] for r in rows}
    assert pairs[("rain", "nafnet-mini", "irnext-mini")] == "1"  # seed 0 pairs with seed 0
    assert pairs[("rain", "restormer-mini", "irnext-mini")] == "2"


@pytest.mark.parametrize(("seeds", "message"), [([0, 0], r"\[0\] repeat"), ([], "non-empty")])
def test_repeated_or_empty_seeds_are_named_errors(seeds, message):
    with pytest.raises(InputError, match=message):
        Profile(tasks=("haze",), models={"haze": ("irnext-mini",)}, seeds=tuple(seeds))


def test_the_cli_reads_the_profile_of_params(results, tmp_path, capsys):
    params = tmp_path / "params.yaml"
    params.write_text(
        "tasks: [haze, rain]\nbenchmark: synthetic\nmodels: [irnext-mini, restormer-mini]\n"
        "seeds: [0, 1]\n"
    )
    argv = ["report", "--results", str(results), "--out", str(results / "r.md")]
    assert main([*argv, "--params", str(params)]) == 0
    text = (results / "r.md").read_text()
    haze = text.split("### haze\n", 1)[1].split("### rain\n", 1)[0]
    assert "| restormer-mini |" in haze and "| nafnet-mini |" not in haze  # not in the profile
    assert "`evaluate/haze/nafnet-mini-s0`" in text
    params.write_text(params.read_text().replace("[0, 1]", "[0, 0]"))
    assert main([*argv, "--params", str(params)]) == 2
    assert "repeat" in capsys.readouterr().err


def test_a_task_with_one_folder_per_test_set_is_read_per_test_set(results):
    # The paper profile's layout: evaluate/TASK/MODEL-sSEED/SET/summary.json.
    for cell in (results / "evaluate" / "rain").iterdir():
        moved = cell / "synth-rain"
        moved.mkdir()
        for path in list(cell.iterdir()):
            if path.is_file():
                path.rename(moved / path.name)
    text = _render(results)
    assert "### rain / synth-rain\n" in text and "Missing cells" not in text
    assert "Not read" not in text
    rain = text.split("### rain / synth-rain\n", 1)[1]
    assert "6 images of 3 scenes, 2 seed(s)" in rain
