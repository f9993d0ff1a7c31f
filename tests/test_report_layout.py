"""The whole report rendered from a miniature results/ tree in the pipeline's layout.

The fixture's scores are built so that every expected figure is a hand computation: per image,
model = identity + offset + seed shift, so seed means, spreads and paired differences are
exact numbers.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from PIL import Image

from irnext.cli import main
from irnext.errors import InputError
from irnext.report import render_report

TASKS = {"haze": 10.0, "rain": 20.0}  # identity's PSNR of image i is base + i
IMAGES = [f"img{i}" for i in range(6)]
SCENES = ["p0", "p0", "p1", "p1", "p2", "p2"]  # two crops of each of three photographs
SEEDS = (0, 1)
# model -> PSNR added to the identity's on every image (nafnet-mini: +1/-1 alternating on top)
OFFSETS = {"irnext-mini": 3.0, "restormer-mini": 2.0, "nafnet-mini": 0.0}
ASSUMPTION = "the suite's own configuration, chosen for equal compute, not the paper's"


def _env(stamp: int, threads: int = 2) -> dict:
    """Same machine, a different commit and time on every run."""
    return {
        "device": "cpu",
        "device_name": "TestCPU",
        "torch": "2.14.1",
        "cuda": None,
        "torch_num_threads": threads,
        "cpu_count": 2,
        "python": "3.11.7",
        "numpy": "2.4.6",
        "pillow": "13.0.0",
        "git_commit": f"deadbeef{stamp:04d}",
        "timestamp_utc": f"2026-01-01T00:{stamp % 60:02d}:00+00:00",
    }


def _json(root, relative, payload):
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload))


def _scores(task, model, seed):
    base = TASKS[task]
    if model == "identity":
        return [base + i for i in range(6)]
    noise = [1.0, -1.0] * 3 if model == "nafnet-mini" else [0.0] * 6
    return [base + i + OFFSETS[model] + seed + noise[i] for i in range(6)]


def _evaluation(root, task, model, seed, counter):
    folder = f"evaluate/{task}/{model}" + ("" if seed is None else f"-s{seed}")
    psnr = _scores(task, model, seed or 0)
    ssim = [0.5 + 0.01 * (seed or 0)] * 6
    _json(root, f"{folder}/summary.json", {
        "model": model, "dataset": f"synth-{task}", "task": task, "split": "test",
        "protocol": "dehaze_pooled", "count": 6, "metrics": ["psnr_db", "ssim"],
        "means": {"psnr_db": float(np.mean(psnr)), "ssim": float(np.mean(ssim))},
        "group_means": {}, "complete": None,
    })  # fmt: skip
    lines = ["name,test_set,scene,group,height,width,psnr_db,ssim"]
    groups = ["indoor", "outdoor"] * 3 if task == "haze" else [""] * 6
    rows = zip(IMAGES, SCENES, groups, psnr, ssim)
    lines += [f"{n},synth-{task}/test,{c},{g},32,32,{p!r},{s!r}" for n, c, g, p, s in rows]
    (root / folder / "per_image.csv").write_text("\n".join(lines) + "\n")
    _json(root, f"{folder}/run.json", {"seconds_total": 1.0, "environment": _env(counter)})


def _history(root, task, model, seed, counter):
    epochs = [{"epoch": e, "loss": 0.5 / e, "steps": 4, "lr": 1e-3} for e in (1, 2, 3)]
    _json(root, f"train/{task}/{model}-s{seed}.json", {
        "model": model, "model_kwargs": {}, "dataset": f"synth-{task}", "split": "train",
        "config": {"epochs": 3, "batch_size": 2, "patch_size": 32, "lr": 1e-3, "seed": seed},
        "seed": seed, "epochs": epochs,
        "validations": [{"step": 12, "epoch": 3, "batch": 0, "val_psnr_db": 20.0, "val_ssim": 0.5}],
    })  # fmt: skip
    _json(root, f"train/{task}/{model}-s{seed}.run.json", {"environment": _env(counter)})


def _cost(root):
    records = []
    for i, model in enumerate(OFFSETS):
        records.append({
            "model": model, "input_shape": [1, 3, 256, 256], "params": 300_000 + 50_000 * i,
            "macs_fvcore": 2.0e9 + 1e8 * i, "macs_ptflops": 2.0e9 + 1e8 * i,
            "macs_torch": 2.0e9 + 1e8 * i, "gmacs_torch": 2.0 + 0.1 * i, "uncounted_ops": [],
            "reported": None, "assumption": None if model == "irnext-mini" else ASSUMPTION,
        })  # fmt: skip
    _json(root, "cost/complexity.json", records)
    _json(root, "cost/complexity.run.json", {"environment": _env(90)})
    for model, median, flagged in (
        ("irnext-mini", 12.34, False),
        ("restormer-mini", 99.87, True),
        ("nafnet-mini", 8.52, False),
    ):
        reason = "loadavg 3.10 above the 0 free cores" if flagged else None
        _json(root, f"latency/{model}.json", {
            "model": model, "device": "cpu", "device_name": "TestCPU", "threads": 2,
            "input_shape": [1, 3, 256, 256], "precision": "fp32", "latency_ms_median": median,
            "latency_ms_iqr": 0.5, "latency_ms_p10": median - 1, "latency_ms_p90": median + 1,
            "runs": 20, "peak_memory_mib": None, "flagged": flagged,
            "flag_reasons": ["IQR 31 % of the median", f"machine busy: {reason}"][: 2 * flagged],
            "load": {"loadavg_1m_before": 0.1, "loadavg_1m_after": 0.2, "cpu_count": 2,
                     "busy": flagged, "reason": reason},
            "environment": _env(91),
        })  # fmt: skip
    scaling = [
        {"model": m, "size": s, "oom": False, "latency_ms_median": 3.0 * s / 128,
         "latency_ms_iqr": 0.1, "peak_memory_mib": None, "device": "cpu", "flagged": False}
        for m in ("irnext-mini", "restormer-mini") for s in (128, 256)
    ]  # fmt: skip
    scaling.append({"model": "restormer-mini", "size": 512, "oom": True, "error": "CUDA OOM"})
    _json(root, "scaling/scaling.json", scaling)


def _ablation(root):
    def variant(name, shift, num_res):
        per_seed = []
        for seed in SEEDS:
            psnr = {n: 15.0 + i + seed + shift for i, n in enumerate(IMAGES)}
            per_seed.append({
                "seed": seed, "psnr_db": float(np.mean(list(psnr.values()))), "ssim": 0.6,
                "psnr_db_per_image": psnr, "ssim_per_image": {n: 0.6 for n in IMAGES},
                "scene_per_image": dict(zip(IMAGES, SCENES)),
                "final_loss": 0.1, "loss_curve": [0.3, 0.1],
            })  # fmt: skip
        return {"variant": name, "note": "", "model_kwargs": {"num_res": num_res},
                "train_overrides": {}, "params": 100_000 * num_res, "gmacs_256": 0.5 * num_res,
                "per_seed": per_seed}  # fmt: skip

    _json(root, "ablations/depth.json", {
        "study": "depth", "title": "Depth", "question": "How deep?", "reference": "paper 4.4",
        "base_model": "irnext-mini", "dataset": "synth-haze", "protocol": "dehaze_pooled",
        "train_config": {"epochs": 3, "lr": 1e-3}, "seeds": list(SEEDS),
        "variants": [variant("num-res-2", 0.0, 2), variant("num-res-1", -0.5, 1)],
    })  # fmt: skip
    _json(root, "ablations/depth.run.json", {"environment": _env(92)})


def _visual(root, task):
    folder = root / "visual" / task
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for name in ("input", "target", *OFFSETS):
        pixels = rng.integers(0, 256, size=(32, 32, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(folder / f"{name}.png")
    _json(root, f"visual/{task}/visual.json",
          {"image": "img0", "models": list(OFFSETS), "crop": [4, 8, 16]})  # fmt: skip


def build_results(root):
    """A miniature results/ tree in the pipeline's layout: 2 tasks, 3 models, 2 seeds."""
    counter = 0
    for task in TASKS:
        _evaluation(root, task, "identity", None, counter)
        for model in OFFSETS:
            for seed in SEEDS:
                counter += 1
                _evaluation(root, task, model, seed, counter)
                _history(root, task, model, seed, counter)
        _visual(root, task)
    _cost(root)
    _ablation(root)
    return root


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    root = build_results(tmp_path_factory.mktemp("layout") / "results")
    published = root.parent / "published"
    published.mkdir()
    (published / "quality.yaml").write_text(
        "sots-indoor:\n  task: haze\n  protocol: dehaze_pooled\n  results:\n"
        "    - {model: nafnet-mini, psnr_db: 37.84, ssim: 0.994, source: 'Someone, 2023'}\n"
    )
    out = render_report(root, root / "report.md", published=published)
    return root, out.read_text()


def _row(text, heading, model):
    section = text.split(f"### {heading}\n", 1)[1]
    return next(line for line in section.splitlines() if line.startswith(f"| {model} |"))


def test_task_tables_show_seed_means_intervals_and_differences(rendered):
    _, text = rendered
    # haze: identity 10..15 (mean 12.5); irnext-mini +3 and +4 on seeds 0 and 1.
    identity = _row(text, "haze", "identity")
    assert "| 1 | 12.50 | [" in identity
    irnext = _row(text, "haze", "irnext-mini")
    assert "| 2 | 16.00 ± 0.71 |" in irnext  # mean of 15.5, 16.5; s.d. 1/sqrt(2)
    # vs identity: every image +3 on seed 0, +4 on seed 1; seeds are resampled, and a quarter
    # of the draws take seed 0 twice (3.0), a quarter seed 1 twice (4.0): the 2.5/97.5 %
    # percentiles are exactly those.
    assert "+3.50 [+3.00, +4.00] *" in irnext
    assert "12.3 ms (cpu, 2 threads)" in irnext and "| 300,000 | 2.00 |" in irnext
    restormer = _row(text, "haze", "restormer-mini")
    # vs irnext-mini -1 on every image of both seeds (paired seed by seed): never better.
    assert "-1.00 [-1.00, -1.00] * | 0.00 | +2.50 [+2.00, +3.00] * |" in restormer
    reasons = "IQR 31 % of the median; machine busy: loadavg 3.10 above the 0 free cores"
    assert f"flagged ({reasons})" in restormer
    assert "99.87" not in text and "99.9" not in text  # a flagged timing is no result
    nafnet = _row(text, "haze", "nafnet-mini")
    vs_identity = re.search(r"\+0\.50 \[(\S+), (\S+)\]( \*)?", nafnet)
    assert vs_identity and float(vs_identity[1]) < 0 < float(vs_identity[2])
    assert vs_identity[3] is None  # its interval includes zero: not significant
    assert "37.84 (sots-indoor, dehaze_pooled; Someone, 2023)" in nafnet
    assert "| irnext-mini | 16.00 | 26.00 |" in _row(text, "Overview", "irnext-mini")
    # haze groups: identity indoor 10, 12, 14 (mean 12), outdoor 11, 13, 15 (13); irnext +3.5
    groups = text.split("### haze", 1)[1].split("### rain", 1)[0]
    assert "| model | indoor | outdoor |" in groups
    assert "| identity | 12.00 | 13.00 |" in groups and "| irnext-mini | 15.50 | 16.50 |" in groups
    assert "by image group" not in text.split("### rain", 1)[1]
    rain = _row(text, "rain", "irnext-mini")
    assert "| 2 | 26.00 ± 0.71 |" in rain  # rain identity 20..25 (22.5) + 3.5


def test_ablation_rows_difference_to_the_reference_over_seeds(rendered):
    _, text = rendered
    row = _row(text, "Depth", "num-res-1")
    assert "| 2 | 17.50 ± 0.71 | -0.50 [-0.50, -0.50] * |" in row  # 17.5 + seed - 0.5
    assert "seeds [0, 1]" in text


def _tex_rows(tex):
    """Each header and body row of a booktabs tabular, unescaped to its Markdown form."""
    body = tex.split("\\toprule\n", 1)[1].split("\\bottomrule", 1)[0]
    rows = [r.removesuffix(" \\\\") for r in body.splitlines() if r != "\\midrule"]
    for escaped, plain in (("$\\pm$", "±"), ("\\%", "%"), ("\\_", "_"), ("\\&", "&")):
        rows = [r.replace(escaped, plain) for r in rows]
    return ["| " + r.replace(" & ", " | ") + " |" for r in rows]


def test_markdown_and_latex_tables_carry_the_same_numbers(rendered):
    root, text = rendered
    texs = {p.stem: p.read_text() for p in sorted((root / "tables").glob("*.tex"))}
    expected = {"quality_haze", "quality_rain", "overview", "ablation_depth", "complexity"}
    assert expected | {"latency", "environments", "training"} <= set(texs)
    lines = set(text.splitlines())
    for name, tex in texs.items():
        assert "\\toprule" in tex and "\\midrule" in tex and "\\bottomrule" in tex
        for row in _tex_rows(tex):
            assert row in lines, (name, row)
    tables = re.findall(r"^\|.*\|\n\|(?:---\|)+\n(?:\|.*\|\n?)+", text, re.M)
    assert len(tables) == len(texs)
    for table in tables:
        numbers = re.findall(r"[-+]?\d[\d,]*(?:\.\d+)?", table)
        assert any(all(n in tex for n in numbers) for tex in texs.values()), table


def test_figures_are_written_and_linked_relatively(rendered):
    root, text = rendered
    assert "booktabs LaTeX and as CSV in `tables/`" in text
    expected = [
        "psnr_vs_macs_haze",
        "psnr_vs_macs_rain",
        "psnr_vs_macs",
        "scaling",
        "training_curves",
        "visual_haze",
        "visual_rain",
        "ablation_depth",
        "complexity",
    ]
    for name in expected:
        assert (root / "figures" / f"{name}.png").stat().st_size > 2000, name
        assert f"](figures/{name}.png)" in text, name


def test_one_environment_row_and_no_commit_or_timestamp(rendered):
    _, text = rendered
    section = text.split("## Environments", 1)[1]
    rows = [line for line in section.splitlines() if line.startswith("| cpu |")]
    assert len(rows) == 1  # 27 stamps of one machine, each with its own commit and time
    assert "ablate, complexity, evaluate, latency, train" in rows[0]
    assert "deadbeef" not in text and "2026-01-01T" not in text


def test_configurations_are_stated_from_the_records(rendered):
    _, text = rendered
    assert f"- `restormer-mini`: {ASSUMPTION}" in text
    assert "this suite's own, chosen for equal compute" in text


def test_the_render_is_deterministic(rendered, tmp_path):
    root, text = rendered
    again = render_report(root, tmp_path / "report.md", published=root.parent / "published")
    assert again.read_text() == text
    for name in ("quality_haze", "ablation_depth"):
        assert (tmp_path / "tables" / f"{name}.tex").read_text() == (
            root / "tables" / f"{name}.tex"
        ).read_text()
    for figure in sorted((root / "figures").glob("*.png")):  # no date in the PNG metadata
        assert (tmp_path / "figures" / figure.name).read_bytes() == figure.read_bytes()


def test_a_truncated_summary_is_an_input_error_naming_file_and_line(tmp_path, capsys):
    root = build_results(tmp_path / "results")
    path = root / "evaluate" / "haze" / "irnext-mini-s0" / "summary.json"
    path.write_text('{\n  "model": "irnext-mini",\n  "means": {"psnr')
    with pytest.raises(InputError, match=r"summary\.json: not valid JSON \(line 3, column"):
        render_report(root, root / "report.md")
    argv = ["report", "--results", str(root), "--out", str(root / "report.md"), "--every-result"]
    assert main(argv) == 2
    assert f"{path}: not valid JSON (line 3" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("relative", "content", "message"),
    [
        ("ablations/depth.json", "[1, 2]", "expected a JSON dict"),
        ("latency/nafnet-mini.json", '{"model": "nafnet-mini"}', "missing key.*latency_ms"),
        ("visual/haze/visual.json", '{"models": [], "crop": [30, 30, 16]}', "outside"),
        ("evaluate/rain/identity/per_image.csv", "name,psnr_db\na,x\n", "'psnr_db' is not num"),
        ("evaluate/rain/identity/per_image.csv", "name,psnr_db\na,1\na,2\n", "names repeat"),
        ("train/rain/nafnet-mini-s1.json", '{"model": "m", "epochs": [{}]}', "missing key.*loss"),
    ],
)
def test_malformed_records_are_named(tmp_path, relative, content, message):
    root = build_results(tmp_path / "results")
    (root / relative).write_text(content)
    with pytest.raises(InputError, match=message):
        render_report(root, root / "report.md")
