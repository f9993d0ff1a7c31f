"""`irnext data inspect` on good and broken folders: JSON, or exit 2 naming the path."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

import irnext.cli
from tests._data_helpers import LAYOUT_FILES, make_layout


@pytest.fixture(autouse=True)
def _only_the_data_command(monkeypatch):
    # The data sub-command on its own, through the real `main` and its error handling.
    monkeypatch.setattr(irnext.cli, "COMMANDS", ("data",))


def run(argv, capsys):
    status = irnext.cli.main(argv)
    captured = capsys.readouterr()
    return status, captured.out, captured.err


@pytest.mark.parametrize("name", sorted(LAYOUT_FILES))
def test_inspect_reports_every_layout(name, tmp_path, capsys):
    pairs = make_layout(name, tmp_path)
    split = LAYOUT_FILES[name][0]
    status, out, _ = run(["data", "inspect", name, str(tmp_path), "--split", split], capsys)
    assert status == 0
    report = json.loads(out)
    assert report["dataset"] == name and report["split"] == split
    assert report["pairs"] == len(pairs)
    assert report["sizes"] == {"24x20": len(pairs)}
    assert report["distinct_targets"] == len({target for _, target in pairs})


def test_inspect_takes_the_root_from_datasets_yaml(tmp_path, capsys, monkeypatch):
    make_layout("test100", tmp_path / "Test100")
    (tmp_path / "datasets.yaml").write_text(f"datasets:\n  test100: {tmp_path / 'Test100'}\n")
    monkeypatch.chdir(tmp_path)
    status, out, _ = run(["data", "inspect", "test100"], capsys)
    assert status == 0 and json.loads(out)["pairs"] == 2


def _expect_failure(argv, capsys, *fragments):
    status, _, err = run(argv, capsys)
    assert status == 2
    for fragment in fragments:
        assert fragment in err, err
    return err


def test_missing_root(tmp_path, capsys):
    absent = tmp_path / "nowhere"
    _expect_failure(
        ["data", "inspect", "gopro", str(absent)],
        capsys,
        str(absent),
        "expected layout",
        "GOPRxxxx_xx_xx/blur",
    )


@pytest.mark.parametrize(
    "name, removed, unpaired, words",
    [
        ("csd", "Test/Gt/2.tif", "Test/Snow/2.tif", ("no target", "Snow/NAME.png")),
        ("test100", "input/2.png", "target/2.png", ("no input",)),
    ],
    ids=["missing-target", "orphan-target"],
)
def test_unpaired_file_is_listed(tmp_path, capsys, name, removed, unpaired, words):
    make_layout(name, tmp_path)
    (tmp_path / removed).unlink()
    argv = ["data", "inspect", name, str(tmp_path)]
    _expect_failure(argv, capsys, str(tmp_path / unpaired), *words)


def test_size_mismatch_names_both_files(tmp_path, capsys):
    make_layout("rain100l", tmp_path)
    Image.fromarray(np.zeros((21, 24, 3), np.uint8)).save(tmp_path / "target/1.png")
    _expect_failure(
        ["data", "inspect", "rain100l", str(tmp_path)],
        capsys,
        str(tmp_path / "input/1.png"),
        str(tmp_path / "target/1.png"),
        "24x21",
    )


@pytest.mark.parametrize("damage", ["truncate", "garbage"])
def test_corrupt_image_is_named(tmp_path, capsys, damage):
    make_layout("test100", tmp_path)
    Image.fromarray(np.full((200, 200, 3), 7, np.uint8)).save(tmp_path / "input/2.png")
    Image.fromarray(np.full((200, 200, 3), 9, np.uint8)).save(tmp_path / "target/2.png")
    path = tmp_path / "input/2.png"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2] if damage == "truncate" else b"\0" * 100)
    _expect_failure(["data", "inspect", "test100", str(tmp_path)], capsys, str(path))


def test_empty_set(tmp_path, capsys):
    (tmp_path / "input").mkdir()
    (tmp_path / "target").mkdir()
    _expect_failure(["data", "inspect", "test2800", str(tmp_path)], capsys, "no image pairs")


def test_stray_file_is_an_error(tmp_path, capsys):
    make_layout("test1200", tmp_path)
    (tmp_path / "input/notes.txt").write_text("hello")
    _expect_failure(["data", "inspect", "test1200", str(tmp_path)], capsys, "notes.txt")


def test_dpdd_group_lists_on_the_command_line(tmp_path, capsys):
    make_layout("dpdd", tmp_path)
    (tmp_path / "in.txt").write_text("1\n3\n")
    (tmp_path / "out.txt").write_text("2\n")
    status, out, _ = run(
        [
            "data",
            "inspect",
            "dpdd",
            str(tmp_path),
            "--group-list",
            f"indoor={tmp_path / 'in.txt'}",
            "--group-list",
            f"outdoor={tmp_path / 'out.txt'}",
        ],
        capsys,
    )
    assert status == 0
    report = json.loads(out)
    assert report["groups"] == {"indoor": 2, "outdoor": 1}
    assert report["input_bit_depths"] == {"16-bit": 3}


def test_list_prints_every_dataset(capsys):
    status, out, _ = run(["data", "list", "--json"], capsys)
    assert status == 0
    assert len(json.loads(out)) == 24
