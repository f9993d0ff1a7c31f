"""No command removes or replaces what it did not create: `data synth --out`, `profile`."""

from __future__ import annotations

import json

import pytest

from irnext.cli import main
from irnext.data.synth import build_benchmark
from irnext.errors import InputError
from tests.reliability._faults import ROOT

TINY = dict(task="haze", seed=0, train_count=0, size_px=32)


def _files(folder):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def test_synth_refuses_a_folder_with_someone_elses_manifest(tmp_path, capsys):
    folder = tmp_path / "photos"
    (folder / "train").mkdir(parents=True)
    (folder / "train" / "holiday.jpg").write_bytes(b"the user's photo")
    (folder / "manifest.json").write_text(json.dumps({"images": ["train/holiday.jpg"]}))
    assert main(["data", "synth", "--task", "haze", "--out", str(folder), "--size", "32"]) == 2
    error = capsys.readouterr().err
    assert f"{folder}: folder is not empty and holds no manifest.json of an earlier" in error
    assert "nothing was removed" in error
    assert _files(folder) == ["manifest.json", "train/holiday.jpg"]


def test_synth_refuses_an_earlier_build_with_a_file_it_did_not_write(tmp_path):
    out = tmp_path / "synth"
    build_benchmark(out=out, test_count=1, **TINY)
    added = out / "test" / "input" / "mine.png"
    added.write_bytes(b"a file the user put there")
    before = _files(out)
    with pytest.raises(InputError) as caught:
        build_benchmark(out=out, test_count=1, **TINY)
    message = str(caught.value)
    assert message.startswith(f"{out}: holds files an earlier `irnext data synth` build did not")
    assert str(added) in message and _files(out) == before


def test_synth_rebuilds_its_own_earlier_build_without_stale_pairs(tmp_path):
    out = tmp_path / "synth"
    build_benchmark(out=out, test_count=2, **TINY)
    assert len(_files(out / "test")) == 4
    manifest = build_benchmark(out=out, test_count=1, **TINY)
    names = [s["name"] for s in manifest["samples"]]
    assert _files(out / "test") == [f"{side}/{names[0]}.png" for side in ("input", "target")]


def test_synth_refuses_a_manifest_whose_sample_names_leave_the_folder(tmp_path):
    out = tmp_path / "synth"
    manifest = build_benchmark(out=out, test_count=1, **TINY)
    manifest["samples"][0]["name"] = "../../../victim"
    (out / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(InputError, match="sample name = '../../../victim'"):
        build_benchmark(out=out, test_count=1, **TINY)


@pytest.fixture
def project(tmp_path, monkeypatch):
    """The checkout's default and gpu profiles, and params.yaml = default, in tmp_path (cwd)."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "profiles").mkdir()
    for name in ("default", "gpu"):
        text = (ROOT / "profiles" / f"{name}.yaml").read_text()
        (tmp_path / "profiles" / f"{name}.yaml").write_text(text)
    (tmp_path / "params.yaml").write_text((ROOT / "profiles" / "default.yaml").read_text())
    return tmp_path


def test_profile_keeps_an_edited_params_file_as_bak(project, capsys):
    params = project / "params.yaml"
    edited = params.read_text().replace("seeds: [", "seeds: [7, ", 1)
    assert edited != params.read_text()
    params.write_text(edited)
    assert main(["profile", "gpu"]) == 0
    assert "(the previous one kept as params.yaml.bak)" in capsys.readouterr().out
    assert (project / "params.yaml.bak").read_text() == edited
    assert params.read_text() == (project / "profiles" / "gpu.yaml").read_text()
    # switching again replaces an unedited profile: the edit stays in the backup
    assert main(["profile", "default"]) == 0
    assert (project / "params.yaml.bak").read_text() == edited


def test_profile_writes_no_backup_of_an_unedited_profile(project, capsys):
    assert main(["profile", "gpu"]) == 0
    assert not (project / "params.yaml.bak").exists()
    assert "kept as" not in capsys.readouterr().out
