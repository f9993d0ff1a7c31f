"""Reports are renders of result data: every number in them comes from a result file.

These fixtures are in the earlier layout (evaluate/<task>/<model>/ without seeds, train/<task>.json,
single-seed ablations with per-image scores), which the report still renders; the pipeline's
current layout is tested in test_report_layout.py."""

from __future__ import annotations

import json
import re

import pytest

from irnext.cli import main
from irnext.report import render_report
from irnext.report.frames import ablation_frame
from irnext.report.tables import cell, markdown_table, to_latex

ENV = {
    "device_name": "x86_64",
    "torch": "2.14.1",
    "cuda": None,
    "torch_num_threads": 2,
    "git_commit": "abc",
    "timestamp_utc": "2026-01-01T00:00:00+00:00",
}


def _variant(name, per_image, params, **kwargs):
    return {
        "variant": name,
        "model_kwargs": kwargs,
        "train_overrides": {},
        "params": params,
        "gmacs_256": 1.5,
        "psnr_db": sum(per_image.values()) / len(per_image),
        "psnr_db_per_image": per_image,
        "scene_per_image": {name: name for name in per_image},  # each image its own scene
        "ssim": 0.81234,
        "train_seconds": 12.0,
        "loss_curve": [0.5, 0.4],
        "final_loss": 0.4,
        "note": "",
    }


ABLATION = {
    "study": "components",
    "title": "IRNeXt components",
    "question": "what matters?",
    "reference": "paper 4.4",
    "base_model": "irnext-test",
    "dataset": "synth-haze",
    "train_split": "train",
    "test_split": "test",
    "protocol": "dehaze_pooled",
    "train_config": {"epochs": 2, "lr": 0.001},
    "environment": ENV,
    "variants": [
        _variant("paper", {"a": 20.0, "b": 21.0}, 220705),
        _variant("no-lam", {"a": 19.0, "b": 19.5}, 210000, lam=False),
    ],
}


def _write(results, relative, payload):
    path = results / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload))


@pytest.fixture
def results(tmp_path):
    root = tmp_path / "results"
    _write(root, "ablations/components.json", ABLATION)
    for model, psnr in (("identity", 12.63), ("irnext-test", 18.4)):
        _write(
            root,
            f"evaluate/haze/{model}/summary.json",
            {
                "model": model,
                "protocol": "dehaze_pooled",
                "count": 6,
                "dataset": "synth-haze",
                "split": "test",
                "means": {"psnr_db": psnr, "ssim": 0.72},
                "environment": ENV,
            },
        )
        # Six images, two crops of each of three photographs; the mean is the summary's.
        offsets = [-0.5, 0.5, -0.25, 0.25, 0.0, 0.0]
        lines = ["name,test_set,scene,group,height,width,psnr_db,ssim"]
        lines += [
            f"i{i},synth-haze/test,p{i // 2},,32,32,{psnr + shift * (model == 'identity')},0.72"
            for i, shift in enumerate(offsets)
        ]
        (root / f"evaluate/haze/{model}/per_image.csv").write_text("\n".join(lines) + "\n")
    _write(
        root,
        "train/haze.json",
        {
            "model": "irnext-test",
            "model_kwargs": {},
            "dataset": "synth-haze",
            "config": {"epochs": 2, "lr": 0.001},
            "epochs": [
                {"epoch": 1, "loss": 0.5, "steps": 8, "seconds": 3.0},
                {"epoch": 2, "loss": 0.4, "steps": 8, "seconds": 2.5},
            ],
            "environment": ENV,
        },
    )
    _write(
        root,
        "cost/complexity.json",
        [
            {
                "model": "irnext-dehaze",
                "input_shape": [1, 3, 256, 256],
                "params": 5455241,
                "macs_fvcore": 38.85e9,
                "macs_ptflops": 38.85e9,
                "macs_torch": 38.85e9,
                "uncounted_ops": [],
                "environment": ENV,
                "reported": {
                    "gmacs": 41.95,
                    "counter": "thop",
                    "gap": "thop counts transposed convs 4x",
                },
            },
            {
                "model": "irnext-derain",
                "input_shape": [1, 3, 256, 256],
                "params": 13205641,
                "macs_fvcore": 111.3e9,
                "macs_ptflops": 111.3e9,
                "macs_torch": 111.3e9,
                "uncounted_ops": [],
                "environment": ENV,
                "assumption": "num_res=14 as for deblurring",
            },
        ],
    )
    _write(
        root,
        "evaluate/snow/identity/summary.json",
        {
            "model": "identity",
            "protocol": "dehaze_pooled",
            "count": 2,
            "dataset": "synth-snow",
            "split": "test",
            "means": {"psnr_db": None, "ssim": 1.0},
            "psnr_db_infinite_count": 1,
            "environment": ENV,
        },
    )
    return root


def test_report_renders_every_result(results):
    out = render_report(results, results / "report.md")
    text = out.read_text()
    # identity per image 12.13, 13.13, 12.38, 12.88, 12.63, 12.63 (scene means 12.63 each):
    # resampling scenes cannot move the mean, only images within them (12.13 .. 13.13).
    identity = next(line for line in text.splitlines() if line.startswith("| identity | - | - |"))
    low, high = map(
        float, re.search(r"\| 12\.63 \| \[(\S+), (\S+)\] \| 0\.7200 \|", identity).groups()
    )
    assert 12.13 <= low < 12.63 < high <= 13.13
    assert "| irnext-test | 220,705 |" not in text  # irnext-test has no complexity record
    # irnext-test vs identity: 18.40 minus the identity's images, +5.77 on average
    assert (
        "| irnext-test | - | - | - | 1 | 18.40 | [18.40, 18.40] | 0.7200 | - | - | +5.77 [" in text
    )
    assert "6 images of 3 scenes, 1 seed(s)" in text
    # Paired differences -1.0 and -1.5: every resample's mean lies in [-1.5, -1.0].
    row = next(line for line in text.splitlines() if line.startswith("| no-lam |"))
    assert row.startswith(
        "| no-lam | lam=False | 210,000 | 1.50 | 1 | 19.25 | -1.25 [-1.50, -1.00] *"
    )
    assert "| haze | irnext-test | - | synth-haze | 16 | epochs=2, lr=0.001 |" in text
    assert "5,455,241" in text and "41.95 G (thop)" in text
    assert "thop counts transposed convs 4x" in text
    assert "| irnext-derain (assumed) | 13,205,641 |" in text
    assert "- `irnext-derain`: num_res=14 as for deblurring" in text
    assert "| identity | - | - | - | 1 | inf (1 identical) | - | 1.0000 |" in text
    for figure in ("training_curves", "ablation_components", "complexity"):
        assert (results / "figures" / f"{figure}.png").stat().st_size > 1000
        assert f"figures/{figure}.png" in text
    # 7 stamped files (3 summaries, 1 history, 2 complexity records, 1 study), one machine
    assert "| - | x86_64 | 2.14.1 | - | 2 | - | - | - | - | 7 |" in text
    assert "abc" not in text and "2026-01-01" not in text  # no commit, no timestamp


def test_missing_parts_are_said_to_be_missing(tmp_path):
    text = render_report(tmp_path, tmp_path / "report.md").read_text()
    for part in (
        "evaluations",
        "complexity records",
        "latency records",
        "scaling records",
        "ablation studies",
        "training histories",
        "environment stamps",
        "contact sheets",
    ):
        assert f"(no {part} found)" in text


def test_a_report_outside_the_results_folder_links_its_figures_relatively(results, tmp_path):
    (results / "synth").mkdir()
    (results / "synth" / "haze.png").write_bytes(b"png")  # a contact sheet, read by link only
    text = render_report(results, tmp_path / "site" / "report.md").read_text()
    assert "](figures/training_curves.png)" in text  # figures are written beside the report
    assert "![haze](../results/synth/haze.png)" in text and "](/" not in text


def test_cli_refuses_a_missing_results_folder(tmp_path, capsys):
    assert (
        main(["report", "--results", str(tmp_path / "nope"), "--out", str(tmp_path / "r.md")]) == 2
    )
    assert "nope: results folder not found" in capsys.readouterr().err


def test_table_cells():
    assert cell(None) == "-" and cell(1234567) == "1,234,567" and cell(float("inf")) == "inf"
    assert cell(0.01234) == "0.0123" and cell("a\nb") == "a b"
    assert markdown_table(["a"], [[1]]).splitlines() == ["| a |", "|---|", "| 1 |"]
    assert markdown_table(["a"], [["x|y"]]).splitlines()[2] == "| x\\|y |"
    assert "vs paper (dB, Holm-level CI)" in ablation_frame(ABLATION)[0].columns


def test_latex_is_booktabs_and_escaped():
    from irnext.report.tables import frame

    tex = to_latex(frame(["model", "PSNR 95 % CI"], [["a_b & c", "1.00 ± 0.50"]]), "t")
    assert "\\toprule" in tex and "\\midrule" in tex and "\\bottomrule" in tex
    assert "PSNR 95 \\% CI" in tex and "a\\_b \\& c" in tex and "1.00 $\\pm$ 0.50" in tex


def test_cli_aggregates_rain13k_summaries_and_the_report_renders_them(tmp_path, capsys):
    from irnext.evaluation import write_summary

    psnr = {"test100": 30.0, "rain100h": 20.0, "rain100l": 40.0, "test2800": 33.0, "test1200": 32.0}
    paths = []
    for name, value in psnr.items():
        summary = {
            "dataset": name,
            "split": "test",
            "model": "irnext-derain",
            "weights_sha256": "ab12",
            "protocol": "matlab_y",
            "complete": True,
            "count": 100,
            "metrics": ["psnr_db", "ssim"],
            "means": {"psnr_db": value, "ssim": 0.9},
        }
        paths.append(str(write_summary(tmp_path / name / "summary.json", summary)))
    results = tmp_path / "results"
    out = results / "aggregates" / "rain13k.json"
    assert main(["aggregate", "rain13k", *paths, "--out", str(out)]) == 0
    assert json.loads(out.read_text())["means"]["psnr_db"] == pytest.approx(31.0)
    text = render_report(results, results / "report.md").read_text()
    assert "### Rain13K average: irnext-derain" in text
    assert "| rain100h | 20.00 | 0.9000 |" in text and "| average | 31.00 | 0.9000 |" in text
    assert main(["aggregate", "rain13k", *paths[:4]]) == 2  # a set missing: named, exit 2
    assert "test1200" in capsys.readouterr().err


def test_summaries_in_the_default_evaluate_folder_are_reported(tmp_path):
    from irnext.evaluation import write_summary

    summary = {
        "dataset": "gopro",
        "split": "test",
        "model": "identity",
        "protocol": "matlab_rgb3d",
        "count": 1111,
        "metrics": ["psnr_db", "ssim"],
        "means": {"psnr_db": 25.64, "ssim": 0.7913},
    }
    # `irnext evaluate` without --out writes results/evaluate/MODEL-DATASET-SPLIT/.
    write_summary(tmp_path / "evaluate" / "identity-gopro-test" / "summary.json", summary)
    text = render_report(tmp_path, tmp_path / "report.md").read_text()
    assert "### gopro / test" in text
    assert "`gopro` (test), protocol `matlab_rgb3d`: 1111 images (scenes not recorded)" in text
    assert "| identity | - | - | - | 1 | 25.64 | - | 0.7913 |" in text


def test_the_report_needs_no_model_code(tmp_path):
    import subprocess
    import sys

    code = (
        "import sys; from irnext.report import render_report; "
        f"render_report({str(tmp_path)!r}, {str(tmp_path / 'report.md')!r}); "
        "bad = [m for m in sys.modules if m == 'torch' or m.startswith('irnext.models')]; "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
