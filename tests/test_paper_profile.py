"""The paper profile as the papers ran it: each model's own recipe per task (`recipe: own`) or
the one shared recipe, the desnowing subset and test sets, and how official weights are scored
(NAFNet with TLC, each release under its own protocol and the suite's uniform one)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from irnext.cli import build_parser, main
from irnext.data.layouts import dataset_info
from irnext.errors import InputError

REPO = Path(__file__).resolve().parents[1]
PAPER = yaml.safe_load((REPO / "profiles" / "paper.yaml").read_text())
ROOTS = [
    "its-train", "sots-indoor", "sots-outdoor", "gopro", "hide", "realblur-j", "realblur-r",
    "dpdd", "rain13k", "test100", "rain100h", "rain100l", "test2800", "test1200", "csd", "srrs",
    "snow100k",
]  # fmt: skip


@pytest.fixture
def workspace(tmp_path, monkeypatch):
    """params.yaml = the paper profile (with `edit`), every dataset root set (not read)."""
    monkeypatch.chdir(tmp_path)
    roots = {name: f"/data/{name}" for name in ROOTS}
    (tmp_path / "datasets.yaml").write_text(yaml.safe_dump({"datasets": roots}))

    def write(**edit) -> Path:
        (tmp_path / "params.yaml").write_text(yaml.safe_dump({**PAPER, **edit}))
        return tmp_path

    write()
    return write


def _dry_run(capsys, task: str, model: str) -> list[list[str]]:
    code = main(["bench", "cell", "--task", task, "--model", model, "--seed", "0", "--dry-run"])
    out = capsys.readouterr()
    assert code == 0, out.err
    return [line.split()[1:] for line in out.out.splitlines() if line.startswith("irnext ")]


@pytest.mark.parametrize(
    "task, recipe",  # IRNeXt's own: the release (ITS) and the authors' ConvIR scripts
    [("haze", "its"), ("motion-blur", "gopro"), ("rain", "rain13k"), ("snow", "desnow")],
)
def test_the_paper_profile_trains_irnext_with_its_own_recipe(workspace, capsys, task, recipe):
    train = build_parser("train").parse_args(_dry_run(capsys, task, "irnext")[0])
    assert (train.recipe, train.recipe_mode) == (recipe, "own")
    assert train.epochs is None and train.lr is None  # nothing overrides the authors' values


def test_each_baseline_gets_its_own_recipe_or_is_refused_by_name(workspace, capsys):
    workspace(models=["irnext", "restormer", "nafnet-w64", "fftformer", "uformer-b"])
    expected = {
        "restormer": "restormer-gopro",
        "nafnet-w64": "nafnet-gopro",
        "fftformer": "fftformer-gopro",
        "uformer-b": "uformer-gopro",
    }
    for model, recipe in expected.items():
        train = build_parser("train").parse_args(_dry_run(capsys, "motion-blur", model)[0])
        assert train.recipe == recipe and train.model == model
    assert main(["bench", "cell", "--task", "haze", "--model", "restormer", "--seed", "0"]) == 2
    assert "restormer has no published haze recipe: refused, not guessed" in capsys.readouterr().err


def test_defocus_is_refused_not_guessed_in_both_modes(workspace, capsys):
    assert "defocus" not in PAPER["tasks"] and "train" not in PAPER["paper"]["defocus"]
    paper = {**PAPER["paper"], "defocus": {"train": "dpdd", "test": ["dpdd"]}}
    workspace(tasks=[*PAPER["tasks"], "defocus"], paper=paper)
    args = ["bench", "cell", "--task", "defocus", "--model", "irnext", "--seed", "0", "--dry-run"]
    assert main(args) == 2
    assert "irnext has no published defocus recipe" in capsys.readouterr().err
    workspace(tasks=[*PAPER["tasks"], "defocus"], paper=paper, recipe="shared")
    assert main(args) == 2
    assert "paper.defocus.recipe is not set" in capsys.readouterr().err


def test_the_shared_mode_gives_every_model_the_tasks_one_recipe(workspace, capsys):
    workspace(recipe="shared", models=["irnext", "restormer"])
    for model in ("irnext", "restormer"):
        train = build_parser("train").parse_args(_dry_run(capsys, "motion-blur", model)[0])
        assert (train.recipe, train.recipe_mode) == ("gopro", "shared")


def test_own_recipes_take_no_learning_overrides(workspace, capsys):
    workspace(train={"num_workers": 2, "lr": 0.1})
    assert main(["bench", "cell", "--task", "haze", "--model", "irnext", "--seed", "0"]) == 2
    assert "train.lr would change the authors' recipes" in capsys.readouterr().err


def test_desnowing_trains_on_train2500_and_tests_every_snow_set(workspace, capsys):
    train, *tests = _dry_run(capsys, "snow", "irnext")
    parsed = build_parser("train").parse_args(train)
    assert (parsed.dataset, parsed.split) == ("csd", "train2500")
    assert [c[c.index("--dataset") + 1] for c in tests] == ["csd", "srrs", "snow100k"]
    # ConvIR Image_desnowing/eval.py pools SSIM from the padded sides.
    assert {dataset_info(n).protocol for n in ("csd", "srrs", "snow100k")} == {
        "dehaze_pooled_release"
    }


def _pretrained(capsys, name: str) -> list[list[str]]:
    assert main(["bench", "pretrained", "--name", name, "--dry-run"]) == 0
    return [line.split()[1:] for line in capsys.readouterr().out.splitlines()]


def test_nafnet_weights_are_scored_with_tlc_under_basicsr_and_the_suites_protocol(
    workspace, capsys
):
    commands = _pretrained(capsys, "nafnet-gopro-w64")
    assert len(commands) == 2 * 4  # GoPro, HIDE, RealBlur-J/R, each under both protocols
    parser = build_parser("evaluate")
    first, uniform = (parser.parse_args(c) for c in commands[:2])
    assert first.tlc and uniform.tlc  # NAFNetLocal: the authors' published numbers use TLC
    assert first.protocol == "basicsr_rgb" and uniform.protocol is None  # None: the dataset's
    assert str(first.out).endswith("gopro") and str(uniform.out).endswith("gopro-uniform")


@pytest.mark.parametrize(
    "name, release, count",
    [
        ("irnext-dehaze-its", "dehaze_pooled_release", 2),  # the release's eval (padded sides)
        ("restormer-motion", None, 1),  # evaluate_gopro_hide.m: the suite's matlab_rgb3d
        ("restormer-derain", None, 1),  # evaluate_PSNR_SSIM.m: the suite's matlab_y
        # ConvIR's Dehazing/ITS/eval.py, Motion_Deblurring/eval.py (its PSNR: float, peak 1)
        # and Image_desnowing/eval.py (CSD's own protocol, so scored once).
        ("convir-s-its", "dehaze_pooled_release", 2),
        ("convir-l-gopro", "dehaze_pooled_release", 2),
        ("convir-b-csd", None, 1),
    ],
)
def test_each_release_is_scored_under_its_own_protocol(workspace, capsys, name, release, count):
    commands = _pretrained(capsys, name)
    first = build_parser("evaluate").parse_args(commands[0])
    assert first.protocol == release and len(commands) == count * len(
        PAPER["paper"][PAPER["pretrained"][name]["task"]]["test"]
    )


@pytest.mark.parametrize("name", ["irnext-dehaze-ots", "convir-s-ots", "convir-b-ots"])
def test_ots_weights_are_scored_on_sots_outdoor_not_the_tasks_sots_indoor(workspace, capsys, name):
    commands = [build_parser("evaluate").parse_args(c) for c in _pretrained(capsys, name)]
    # The release's OTS eval.py (pooled from the padded sides), then the suite's dehaze_pooled.
    assert [(c.dataset, c.protocol) for c in commands] == [
        ("sots-outdoor", "dehaze_pooled_release"),
        ("sots-outdoor", None),
    ]
    assert str(commands[1].out).endswith(f"pretrained/{name}/sots-outdoor-uniform")


@pytest.mark.parametrize(
    "test, problem",
    [
        (["its-train"], "'its-train' is not a test set"),  # a training set only
        (["sots-outdor"], "'sots-outdor' is not a test set"),
        ("sots-outdoor", "expected a list of dataset names"),
        ([], "expected a list of dataset names"),
    ],
)
def test_a_pretrained_entrys_own_test_sets_are_checked(workspace, capsys, test, problem):
    entry = {"weights": "w.pkl", "kind": "irnext", "task": "haze", "test": test}
    workspace(pretrained={"x": entry})
    assert main(["bench", "pretrained", "--name", "x", "--dry-run"]) == 2
    assert "pretrained.x.test" in (err := capsys.readouterr().err) and problem in err


def test_pretrained_entries_are_checked(workspace, capsys):
    entry = {"weights": "w.pth", "kind": "baseline", "task": "haze", "tta": True}
    workspace(pretrained={"x": entry})
    assert main(["bench", "pretrained", "--name", "x", "--dry-run"]) == 2
    assert "unknown key 'tta'" in capsys.readouterr().err
    del entry["tta"]
    from irnext.pipeline.paper import check_pretrained

    with pytest.raises(InputError, match=r"x.tlc = 'yes'; expected true or false"):
        check_pretrained(
            {"weights": "w.pth", "kind": "baseline", "task": "haze", "tlc": "yes"}, "x"
        )


def test_params_check_names_every_missing_root_and_weights_file_at_once(workspace, capsys):
    folder = workspace()
    (folder / "gopro").mkdir()
    roots = {name: str(folder / name) for name in ROOTS if name != "hide"}  # hide: not set
    (folder / "datasets.yaml").write_text(yaml.safe_dump({"datasets": roots}))
    assert main(["params", "check"]) == 2
    err = capsys.readouterr().err
    weights = [entry["weights"] for entry in PAPER["pretrained"].values()]
    assert all(f"weights file {w} is missing" in err for w in weights)
    assert "datasets.hide is not set (read by paper.motion-blur.test)" in err
    # Read by the OTS weights alone (their own `test`), named with an entry reading it.
    outdoor = f"datasets.sots-outdoor = {folder / 'sots-outdoor'} is not a folder (pretrained."
    assert re.search(re.escape(outdoor) + r"[a-z-]+-ots\)", err)
    assert f"datasets.gopro = {folder / 'gopro'}" not in err  # present: not reported
    assert f"datasets.csd = {folder / 'csd'} is not a folder" in err
    # Every root the profile reads (train and test sets of its tasks, the weights' test sets).
    lines = [line for line in err.splitlines() if line.startswith("datasets.yaml: ")]
    assert len(lines) == len(ROOTS) - 1


def test_params_check_passes_the_paper_profile_once_everything_is_there(workspace, capsys):
    folder = workspace()
    for name in ROOTS:
        (folder / name).mkdir()
    for entry in PAPER["pretrained"].values():
        (folder / entry["weights"]).parent.mkdir(exist_ok=True)
        (folder / entry["weights"]).write_bytes(b"")
    roots = {name: str(folder / name) for name in ROOTS}
    (folder / "datasets.yaml").write_text(yaml.safe_dump({"datasets": roots}))
    assert main(["params", "check"]) == 0, capsys.readouterr().err


def test_the_report_labels_each_run_with_its_recipe_and_mode(tmp_path):
    from irnext.report.render import render_report

    history = {"model": "irnext-motion-deblur", "dataset": "gopro", "recipe": "gopro"}
    history |= {"recipe_mode": "own", "config": {"epochs": 3000, "lr": 1e-4}}
    history["epochs"] = [{"epoch": 1, "loss": 0.5, "lr": 1e-4, "steps": 10}]
    folder = tmp_path / "results" / "train" / "motion-blur"
    folder.mkdir(parents=True)
    (folder / "irnext-s0.json").write_text(json.dumps(history))
    out = render_report(tmp_path / "results", tmp_path / "report.md")
    assert "gopro (own recipe): epochs=3000" in out.read_text()


# The baselines' own recipes per task, from docs/recipes.md's sources: Restormer's option files
# for motion deblurring and deraining (its DPDD recipe has no training set in the profile),
# NAFNet's and FFTformer's GoPro option files, Uformer's train_motiondeblur.sh.
BASELINE_RECIPES = {
    ("motion-blur", "restormer"): "restormer-gopro",
    ("rain", "restormer"): "restormer-rain13k",
    ("motion-blur", "nafnet-w64"): "nafnet-gopro",
    ("motion-blur", "fftformer"): "fftformer-gopro",
    ("motion-blur", "uformer-b"): "uformer-gopro",
}


def test_the_paper_profile_trains_each_baseline_on_its_own_tasks(workspace, capsys):
    from irnext.pipeline.paper import check_baselines

    pairs = {(e["task"], e["model"]) for e in PAPER["baselines"].values()}
    assert pairs == set(BASELINE_RECIPES) and check_baselines(PAPER) == []
    for (task, model), recipe in BASELINE_RECIPES.items():
        train = build_parser("train").parse_args(_dry_run(capsys, task, model)[0])
        assert (train.model, train.recipe, train.recipe_mode) == (model, recipe, "own")
    assert main(["bench", "summary", "--task", "motion-blur", "--dry-run"]) == 0
    collect = capsys.readouterr().out.splitlines()[0].split()
    models = collect[collect.index("--models") + 1 : collect.index("--seeds")]
    assert sorted(models) == ["fftformer", "irnext", "nafnet-w64", "restormer", "uformer-b"]


@pytest.mark.parametrize(
    "entry, problem",
    [
        ({"task": "haze", "model": "restormer", "seed": 0}, "no published haze recipe"),
        ({"task": "snow", "model": "nafnet-w64", "seed": 0}, "no published snow recipe"),
        ({"task": "motion-blur", "model": "irnext", "seed": 0}, "is in `models`"),
        ({"task": "defocus", "model": "restormer", "seed": 0}, "not one of `tasks`"),
        ({"task": "rain", "model": "restormer", "seed": 3}, "expected `seeds` [0, 1, 2]"),
    ],
)
def test_params_check_refuses_a_baseline_that_would_be_refused(workspace, capsys, entry, problem):
    name = f"{entry['task']}-{entry['model']}-{entry['seed']}"
    baselines = {k: v for k, v in PAPER["baselines"].items() if v["model"] != entry["model"]}
    workspace(baselines={**baselines, name: entry})
    assert main(["params", "check"]) == 2
    lines = [line for line in capsys.readouterr().err.splitlines() if problem in line]
    assert lines and "baselines" in lines[0]


def test_params_check_refuses_a_baseline_whose_recipe_the_loop_cannot_honour(
    workspace, capsys, monkeypatch
):
    import dataclasses

    from irnext.training import recipe_table

    refused = dataclasses.replace(recipe_table.OWN["nafnet-gopro"], unhonoured=("a part",))
    monkeypatch.setitem(recipe_table.OWN, "nafnet-gopro", refused)
    assert main(["params", "check"]) == 2
    error = capsys.readouterr().err
    assert "baselines.motion-blur-nafnet-w64-0: recipe 'nafnet-gopro'" in error
    assert "cannot yet honour a part" in error


def test_dvc_creates_a_baseline_stage_per_entry_and_none_in_the_other_profiles(tmp_path):
    import shutil
    import subprocess

    shutil.copy(REPO / "dvc.yaml", tmp_path / "dvc.yaml")
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    subprocess.run(["dvc", "init", "-q"], cwd=tmp_path, check=True)
    for profile, expected in (("paper", [f"baseline@{n}" for n in PAPER["baselines"]]),
                              ("default", [])):  # fmt: skip
        shutil.copy(REPO / "profiles" / f"{profile}.yaml", tmp_path / "params.yaml")
        listed = subprocess.run(
            ["dvc", "stage", "list", "--name-only"], cwd=tmp_path, capture_output=True, text=True
        )
        assert listed.returncode == 0, listed.stderr
        names = listed.stdout.split()
        assert [n for n in names if n.startswith("baseline@")] == expected, profile
    assert "cell@haze-irnext-mini-0" in names  # the default profile's cells, as before
