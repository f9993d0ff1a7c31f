"""`evaluate` and `irnext evaluate` end to end on miniature datasets the tests write."""

from __future__ import annotations

import csv
import json
import math

import numpy as np
import pytest
import torch
from PIL import Image
from skimage.metrics import peak_signal_noise_ratio as skimage_psnr
from skimage.metrics import structural_similarity as skimage_ssim

import irnext
from irnext.cli import main
from irnext.data import open_dataset
from irnext.errors import InputError
from irnext.evaluation import (
    EvalOptions,
    IdentityModel,
    dpdd_aggregates,
    evaluate,
    rain13k_average,
    read_summary,
    write_rows,
    write_summary,
)
from irnext.models.registry import create_model
from tests._eval_helpers import write_dpdd_layout, write_synth_layout

# BasicSR's calculate_ssim: 11x11 Gaussian (sigma 1.5), population covariance, uint8 peak 255,
# per channel, averaged over the valid region (scikit-image crops the same 5-pixel border).
BASICSR_SSIM = dict(
    data_range=255, channel_axis=-1, gaussian_weights=True, sigma=1.5, use_sample_covariance=False
)


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return math.inf if mse == 0 else 10 * math.log10(255**2 / mse)


def test_identity_scores_the_degraded_inputs_and_handles_infinite_psnr(tmp_path):
    written = write_synth_layout(tmp_path / "data", identical=1)
    dataset = open_dataset("synth-motion-blur", tmp_path / "data")
    rows, summary = evaluate(
        IdentityModel(), dataset, protocol="basicsr_rgb", options=EvalOptions(device="cpu")
    )
    assert [r["name"] for r in rows] == sorted(written)
    for row in rows:
        degraded, clean = written[row["name"]]
        assert row["psnr_db"] == pytest.approx(_psnr(degraded, clean), abs=1e-6)
        assert (row["height"], row["width"]) == clean.shape[:2]
        if row["psnr_db"] != math.inf:  # BasicSR SSIM = scikit-image's Gaussian, valid region
            expected = skimage_ssim(clean, degraded, **BASICSR_SSIM)
            assert row["ssim"] == pytest.approx(expected, abs=1e-6)
    assert rows[1]["psnr_db"] == math.inf and rows[1]["ssim"] == pytest.approx(1.0)
    assert summary["psnr_db_infinite_count"] == 1 and summary["means"]["psnr_db"] == math.inf
    assert summary["means"]["ssim"] == pytest.approx(np.mean([r["ssim"] for r in rows]))
    path = write_summary(tmp_path / "summary.json", summary)
    stored = json.loads(path.read_text())  # strict JSON: no Infinity token
    assert stored["means"]["psnr_db"] is None and stored["psnr_db_infinite_count"] == 1
    assert stored["environment"]["device"] == "cpu" and stored["model"] == "identity"
    write_rows(tmp_path / "rows.csv", rows, metrics=("psnr_db", "ssim"))
    table = list(csv.DictReader((tmp_path / "rows.csv").read_text().splitlines()))
    assert float(table[1]["psnr_db"]) == math.inf and table[0]["group"] == ""


def test_saved_outputs_are_the_models_own_and_rescore_to_the_reported_psnr(tmp_path):
    write_synth_layout(tmp_path / "data", count=4)
    dataset = open_dataset("synth-motion-blur", tmp_path / "data")
    torch.manual_seed(0)
    model = torch.nn.Conv2d(3, 3, 3, padding=1)  # any network with spatial context
    rows, summary = evaluate(
        model, dataset, save_dir=tmp_path / "out", options=EvalOptions(device="cpu")
    )
    assert summary["protocol"] == "matlab_rgb3d" == dataset.info.protocol
    for row, pair in zip(rows, dataset.pairs, strict=True):
        saved = np.asarray(Image.open(tmp_path / "out" / f"{row['name']}.png")).astype(int)
        # The model run here by hand on the 8-bit input, clipped and rounded to 8 bits.
        blurred = np.asarray(Image.open(pair.input_path), dtype=np.float32) / 255
        with torch.no_grad():
            output = model(torch.from_numpy(blurred).permute(2, 0, 1)[None])[0].permute(1, 2, 0)
        expected = np.rint(output.clamp(0, 1).numpy() * 255).astype(int)
        assert np.abs(saved - expected).max() <= 1  # float32 vs float64 ties at .5 may differ
        assert (saved == expected).mean() > 0.999
        # GoPro's protocol scores PSNR on the 8-bit images: scikit-image's, peak 255.
        clean = np.asarray(Image.open(pair.target_path))
        psnr = skimage_psnr(clean, saved.astype(np.uint8), data_range=255)
        assert row["psnr_db"] == pytest.approx(psnr, abs=1e-6)  # float32 vs float64 MSE
    batched, _ = evaluate(model, dataset, options=EvalOptions(device="cpu", batch_size=3))
    for one, many in zip(rows, batched, strict=True):
        assert many["psnr_db"] == pytest.approx(one["psnr_db"], abs=1e-4)
        assert many["ssim"] == pytest.approx(one["ssim"], abs=1e-5)


def test_tiled_evaluation_matches_whole_image_for_a_pointwise_model(tmp_path):
    write_synth_layout(tmp_path / "data", count=2, size=(72, 90))
    dataset = open_dataset("synth-haze", tmp_path / "data")
    model = torch.nn.Conv2d(3, 3, 1)  # no spatial context: tiling must not change a pixel
    whole, _ = evaluate(model, dataset, options=EvalOptions(device="cpu"))
    tiled, summary = evaluate(
        model, dataset, options=EvalOptions(device="cpu", tile=32, tile_overlap=8)
    )
    assert summary["tile"] == 32
    for a, b in zip(whole, tiled, strict=True):
        assert b["psnr_db"] == pytest.approx(a["psnr_db"], abs=1e-4)


def test_dpdd_groups_and_aggregates(tmp_path):
    lists = write_dpdd_layout(tmp_path / "dpdd", indoor=2, outdoor=3)
    dataset = open_dataset("dpdd", tmp_path / "dpdd", group_lists=lists)
    rows, summary = evaluate(IdentityModel(), dataset, options=EvalOptions(device="cpu"))
    summary.update(model="identity")
    with pytest.warns(UserWarning, match="published test split has"):
        agg = dpdd_aggregates(summary)  # 2 + 3 scenes, not DPDD's 37 + 39
    assert agg["complete"] is False
    assert (agg["indoor"]["count"], agg["outdoor"]["count"], agg["combined"]["count"]) == (2, 3, 5)
    for group in ("indoor", "outdoor"):
        values = [r["mae"] for r in rows if r["group"] == group]
        assert agg[group]["mae"] == pytest.approx(np.mean(values))
    assert agg["combined"]["psnr_db"] == pytest.approx(np.mean([r["psnr_db"] for r in rows]))
    assert set(summary["metrics"]) == {"psnr_db", "ssim", "mae"}
    with pytest.raises(InputError, match="dpdd's test split"):
        dpdd_aggregates({**summary, "split": "val"})


def test_rain13k_average_is_the_mean_of_set_means_not_of_images():
    counts = {"test100": 100, "rain100h": 100, "rain100l": 100, "test2800": 2800, "test1200": 1200}
    psnr = {"test100": 30.0, "rain100h": 20.0, "rain100l": 40.0, "test2800": 33.0, "test1200": 32.0}
    summaries = [
        {
            "dataset": name,
            "model": "m",
            "protocol": "matlab_y",
            "split": "test",
            "weights_sha256": "ab12",
            "complete": True,
            "count": counts[name],
            "metrics": ["psnr_db", "ssim"],
            "means": {"psnr_db": psnr[name], "ssim": 0.9},
        }
        for name in counts
    ]
    average = rain13k_average(summaries)
    assert average["means"]["psnr_db"] == pytest.approx(31.0)  # pooled over images: 32.5
    with pytest.raises(InputError, match="test1200"):
        rain13k_average(summaries[:4])
    assert average["complete"] is True
    summaries[1]["complete"] = False  # a partial copy of one set taints the average
    assert rain13k_average(summaries)["complete"] is False
    for key, other in (("weights_sha256", "cd34"), ("split", "train"), ("protocol", "basicsr_rgb")):
        changed = [{**summaries[0], key: other}, *summaries[1:]]
        with pytest.raises(InputError, match=f"differ in {key}"):
            rain13k_average(changed)


def _evaluate_on_cpu(*source: str, dataset: str, root, out, extra=()) -> int:
    """`irnext evaluate SOURCE --dataset D --root R --out O --device cpu EXTRA`'s exit code."""
    argv = ["evaluate", *source, "--dataset", dataset, "--root", str(root), "--out", str(out)]
    return main([*argv, "--device", "cpu", *extra])


def test_cli_evaluates_identity_and_spandrel_weights_end_to_end(tmp_path, capsys):
    from spandrel.architectures.NAFNet import NAFNet

    write_synth_layout(tmp_path / "data", count=2)
    out = tmp_path / "identity"
    code = _evaluate_on_cpu(
        "--model", "identity", dataset="synth-rain", root=tmp_path / "data", out=out
    )
    assert code == 0
    summary = read_summary(out / "summary.json")
    assert summary["protocol"] == "matlab_y" and summary["count"] == 2
    run = json.loads((out / "run.json").read_text())
    assert run["environment"]["torch"] == torch.__version__
    assert set(run["per_image_seconds"]) == {"0000_photo", "0001_photo"}
    weights = tmp_path / "nafnet_tiny.pth"
    tiny = NAFNet(width=8, middle_blk_num=1, enc_blk_nums=[1, 1], dec_blk_nums=[1, 1])
    torch.save({"params": tiny.state_dict()}, weights)
    out = tmp_path / "nafnet"
    code = _evaluate_on_cpu(
        "--baseline-weights",
        str(weights),
        dataset="synth-rain",
        root=tmp_path / "data",
        out=out,
        extra=("--protocol", "basicsr_rgb", "--save-images"),
    )
    assert code == 0
    summary = read_summary(out / "summary.json")
    assert summary["model"].startswith("nafnet") and len(summary["weights_sha256"]) == 64
    assert len(list((out / "images").glob("*.png"))) == 2
    assert "images/s" in capsys.readouterr().out


@pytest.mark.slow
def test_cli_evaluates_a_suite_checkpoint_of_irnext(tmp_path):
    from irnext.checkpoint import save_checkpoint

    write_synth_layout(tmp_path / "data", count=1)
    torch.manual_seed(0)
    model = create_model("irnext-test")
    save_checkpoint(tmp_path / "irnext.pt", model)
    out = tmp_path / "irnext"
    code = _evaluate_on_cpu(
        "--checkpoint",
        str(tmp_path / "irnext.pt"),
        dataset="synth-defocus",
        root=tmp_path / "data",
        out=out,
    )
    assert code == 0
    summary = read_summary(out / "summary.json")
    assert summary["model"] == "irnext-test" and summary["protocol"] == "dpdd_float"
    row = next(csv.DictReader((out / "per_image.csv").read_text().splitlines()))
    # dpdd_float: float PSNR (peak 1) and scikit-image's default SSIM, computed here on the files.
    name = row["name"]
    source, target = (
        np.asarray(Image.open(tmp_path / "data" / "test" / side / f"{name}.png")) / 255.0
        for side in ("input", "target")
    )
    restored = irnext.restore(model.eval(), torch.from_numpy(source).permute(2, 0, 1).float())
    restored = restored.permute(1, 2, 0).double().numpy()
    assert float(row["psnr_db"]) == pytest.approx(
        skimage_psnr(target, restored, data_range=1.0), abs=1e-4
    )
    expected_ssim = skimage_ssim(target, restored, data_range=1.0, channel_axis=-1)
    assert float(row["ssim"]) == pytest.approx(expected_ssim, abs=1e-5)


def test_cli_names_bad_inputs(tmp_path, capsys):
    write_synth_layout(tmp_path / "data", count=1)
    args = ["evaluate", "--dataset", "synth-rain", "--root", str(tmp_path / "data")]
    assert main([*args, "--model", "nope"]) == 2
    assert "unknown model 'nope'" in capsys.readouterr().err
    assert main([*args, "--model", "restormer", "--tlc"]) == 2
    assert "--tlc applies to NAFNet" in capsys.readouterr().err
    # Names checked when the command runs (the parser imports no catalogue), still named errors.
    out = ["--out", str(tmp_path / "out")]
    assert main([*args, *out, "--model", "identity", "--protocol", "psnr"]) == 2
    assert "unknown metric protocol 'psnr'; known: dehaze_pooled" in capsys.readouterr().err
    other = [
        "evaluate",
        "--dataset",
        "gopr",
        "--root",
        str(tmp_path / "data"),
        "--model",
        "identity",
    ]
    assert main(other) == 2
    assert "unknown dataset 'gopr'" in capsys.readouterr().err
    with pytest.raises(InputError, match="unknown metric protocol 'psnr'"):
        evaluate(IdentityModel(), open_dataset("synth-rain", tmp_path / "data"), protocol="psnr")


@pytest.mark.slow
def test_realblur_protocol_runs_in_evaluate_and_beats_plain_psnr_on_noisy_pairs(tmp_path):
    write_synth_layout(tmp_path / "data", count=2)
    dataset = open_dataset("synth-motion-blur", tmp_path / "data")
    aligned, summary = evaluate(IdentityModel(), dataset, protocol="realblur_aligned")
    plain, _ = evaluate(IdentityModel(), dataset, protocol="basicsr_rgb")
    assert summary["protocol_source"].startswith("RealBlur")
    for a, p in zip(aligned, plain, strict=True):
        # On a pair that is already aligned, the least-squares intensity match (and the
        # homography fitted to the noise) can only lower the error, and only a little.
        assert p["psnr_db"] <= a["psnr_db"] < p["psnr_db"] + 1.5


def test_an_ots_trained_checkpoint_on_sots_outdoor_is_flagged_as_leaking(tmp_path, capsys):
    from irnext.checkpoint import save_checkpoint
    from tests._data_helpers import make_layout

    make_layout("sots-outdoor", tmp_path / "sots")
    torch.manual_seed(0)
    for trained_on in ("ots-train", "its-train"):
        weights = tmp_path / f"{trained_on}.pt"
        save_checkpoint(weights, create_model("irnext-test"), training={"dataset": trained_on})
        out = tmp_path / trained_on
        args = ["evaluate", "--checkpoint", str(weights), "--dataset", "sots-outdoor"]
        assert main([*args, "--root", str(tmp_path / "sots"), "--out", str(out)]) == 0
        summary = json.loads((out / "summary.json").read_text())
        assert summary["trained_on"] == trained_on
        assert "OTS contains SOTS-outdoor" in summary["dataset_caveat"]  # every model's score
        assert "caveat: sots-outdoor" in capsys.readouterr().err
        overlap = summary["train_test_overlap"]
        assert (overlap is not None) == (trained_on == "ots-train")


# Each baseline on a task its paper reports, so that every task and every default protocol of
# the synthetic benchmark is scored through `irnext evaluate` (random weights: the numbers are
# not quality, the path is what is tested).
MODEL_ON_TASK = [
    ("identity", "defocus"),
    ("irnext-dehaze", "haze"),
    ("dehazeformer-b", "haze"),
    ("nafnet-w32", "snow"),
    ("restormer", "rain"),
    ("mprnet-derain", "rain"),
    ("uformer-b", "defocus"),
    ("nafnet-w64", "motion-blur"),
    ("mprnet-deblur", "motion-blur"),
    ("fftformer", "motion-blur"),
]


@pytest.fixture(scope="module")
def synth_benchmark(tmp_path_factory):
    """Every task of the offline benchmark at 64 px: one training and two test images each."""
    root = tmp_path_factory.mktemp("synth")
    for task in ("haze", "motion-blur", "defocus", "rain", "snow"):
        argv = ["data", "synth", "--task", task, "--out", str(root / task), "--size", "64"]
        assert main([*argv, "--train-count", "1", "--test-count", "2"]) == 0
    return root


@pytest.mark.parametrize(("name", "task"), MODEL_ON_TASK)
def test_cli_scores_each_model_on_the_synthetic_benchmark_under_the_tasks_protocol(
    synth_benchmark, tmp_path, name, task
):
    out = tmp_path / "eval"
    argv = ["evaluate", "--model", name, "--dataset", f"synth-{task}"]
    argv += ["--root", str(synth_benchmark / task), "--device", "cpu", "--out", str(out)]
    assert main(argv) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["model"] == name and summary["count"] == 2
    assert (
        summary["protocol"] == open_dataset(f"synth-{task}", synth_benchmark / task).info.protocol
    )
    assert all(math.isfinite(summary["means"][m]) for m in summary["metrics"])
    with open(out / "per_image.csv") as handle:
        assert len(list(csv.DictReader(handle))) == 2


def test_unknown_devices_and_batch_sizes_are_named(tmp_path, capsys):
    from irnext.evaluation import resolve_device

    with pytest.raises(InputError, match="device 'tpu7': expected auto, cpu, cuda or cuda:N"):
        resolve_device("tpu7")
    write_synth_layout(tmp_path / "data", count=1)
    argv = ["evaluate", "--model", "identity", "--dataset", "synth-haze"]
    argv += ["--root", str(tmp_path / "data"), "--out", str(tmp_path / "o")]
    assert main([*argv, "--batch-size", "0"]) == 2
    assert "batch_size 0: expected an integer >= 1" in capsys.readouterr().err


def test_score_files_hold_no_timings_and_a_rerun_rewrites_them_byte_for_byte(tmp_path):
    write_synth_layout(tmp_path / "data", count=3)
    out = tmp_path / "eval"
    argv = ["evaluate", "--model", "irnext-test", "--dataset", "synth-haze", "--device", "cpu"]
    argv += ["--root", "data", "--out", str(out), "--workers", "1", "--batch-size", "2"]
    import os

    here = os.getcwd()
    os.chdir(tmp_path)  # a relative root, stored as given
    try:
        assert main(argv) == 0
        first = {name: (out / name).read_bytes() for name in ("summary.json", "per_image.csv")}
        # The same evaluation, decoded in this process instead of a worker: same bytes.
        assert main([*argv[:-4], "--workers", "0", "--batch-size", "2"]) == 0
    finally:
        os.chdir(here)
    for name, data in first.items():
        assert (out / name).read_bytes() == data, name
    summary = json.loads(first["summary.json"])
    assert summary["root"] == "data"
    text = first["summary.json"].decode() + first["per_image.csv"].decode()
    for word in ("seconds", "environment", "timestamp", "images_per_second", str(tmp_path)):
        assert word not in text
    header = first["per_image.csv"].decode().splitlines()[0]
    assert header == "name,test_set,scene,group,height,width,psnr_db,ssim"
    run = json.loads((out / "run.json").read_text())
    assert run["seconds_total"] > 0 and len(run["per_image_seconds"]) == 3
    assert run["environment"]["device"] == "cpu" and "timestamp_utc" in run["environment"]


@pytest.fixture(scope="module")
def precision_case(tmp_path_factory):
    """Three 64 x 64 pairs and a tiny IRNeXt whose LAM branches are active, with its fp32 eager
    scores: the reference every faster mode of `evaluate` is held to."""
    from tests._eval_helpers import with_active_branches

    root = tmp_path_factory.mktemp("precision")
    write_synth_layout(root, count=3, size=(64, 64))
    dataset = open_dataset("synth-haze", root)
    torch.manual_seed(0)
    model = with_active_branches(create_model("irnext-test"))
    reference, _ = evaluate(model, dataset, options=EvalOptions(device="cpu", num_workers=0))
    return model, dataset, reference


def _largest_gaps(rows, reference) -> tuple[float, float]:
    pairs = list(zip(rows, reference, strict=True))
    return (
        max(abs(a["psnr_db"] - b["psnr_db"]) for a, b in pairs),
        max(abs(a["ssim"] - b["ssim"]) for a, b in pairs),
    )


def test_channels_last_and_bf16_score_as_fp32_eager_within_their_bounds(precision_case):
    import copy

    model, dataset, reference = precision_case
    rows, summary = evaluate(
        copy.deepcopy(model), dataset, options=EvalOptions(device="cpu", channels_last=True)
    )
    psnr_gap, ssim_gap = _largest_gaps(rows, reference)
    assert psnr_gap < 1e-3 and ssim_gap < 1e-5
    rows, summary = evaluate(
        copy.deepcopy(model), dataset, options=EvalOptions(device="cpu", dtype="bf16")
    )
    assert summary["dtype"] == "bf16"
    psnr_gap, ssim_gap = _largest_gaps(rows, reference)
    # With the pixel layers and the SCMs' conv -> InstanceNorm in fp32 this network's scores move
    # by 6.5e-4 dB at most (3.9e-3 dB under plain autocast): within the default 1e-3 dB, and
    # moved at all (autocast is on).
    assert 0 < psnr_gap < 1e-3 and ssim_gap < 1e-4
    check = summary["bf16_check"]  # every image was checked: its gaps are the ones above
    assert check["images"] == 3 and check["tolerance_db"] == 1e-3
    assert check["max_psnr_db_gap"] == pytest.approx(psnr_gap, abs=1e-9)
    assert check["max_ssim_gap"] == pytest.approx(ssim_gap, abs=1e-9)


def test_bf16_beyond_its_tolerance_stops_and_names_the_gap(precision_case, tmp_path, capsys):
    import copy

    model, dataset, reference = precision_case
    psnr_gap, _ = _largest_gaps(
        evaluate(copy.deepcopy(model), dataset, options=EvalOptions(device="cpu", dtype="bf16"))[0],
        reference,
    )
    with pytest.raises(InputError, match=r"bf16 moved the PSNR of \[.*\] by up to .* dB") as caught:
        evaluate(
            copy.deepcopy(model),
            dataset,
            options=EvalOptions(device="cpu", dtype="bf16", bf16_tolerance_db=psnr_gap / 2),
        )
    assert str(dataset.root) in str(caught.value) and "--bf16-tolerance-db" in str(caught.value)
    for bad in (-1.0, "0.1", True, float("nan")):
        with pytest.raises(InputError, match="bf16_tolerance_db .*: expected a number of dB >= 0"):
            evaluate(
                model,
                dataset,
                options=EvalOptions(device="cpu", dtype="bf16", bf16_tolerance_db=bad),
            )
    torch.manual_seed(0)
    args = ["evaluate", "--model", "irnext-test", "--dataset", "synth-haze"]
    args += ["--root", str(dataset.root), "--out", str(tmp_path / "out"), "--dtype", "bf16"]
    assert main([*args, "--bf16-tolerance-db", "0"]) == 2
    assert "bf16 moved the PSNR" in capsys.readouterr().err
    assert not (tmp_path / "out" / "summary.json").exists()  # nothing written for a refused run
    assert main([*args, "--bf16-tolerance-db", "1"]) == 0
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["bf16_check"]["tolerance_db"] == 1 and summary["dtype"] == "bf16"


@pytest.mark.slow
def test_compiled_evaluation_scores_as_fp32_eager(precision_case):
    # aot_eager traces and runs the graph torch.compile builds without generating kernels
    # (inductor needs minutes of C++ compilation on 2 cores; it scored within 2e-6 dB here).
    import copy

    model, dataset, reference = precision_case
    rows, _ = evaluate(
        copy.deepcopy(model),
        dataset,
        options=EvalOptions(device="cpu", compile=True, compile_backend="aot_eager"),
    )
    psnr_gap, ssim_gap = _largest_gaps(rows, reference)
    assert psnr_gap < 1e-3 and ssim_gap < 1e-5


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("dtype", "fp16", "dtype 'fp16': expected one of fp32, bf16"),
        ("num_workers", -1, "num_workers -1: expected None or an integer >= 0"),
        ("batch_size", 0, "batch_size 0: expected an integer >= 1"),
        ("batch_size", 2.0, "batch_size 2.0: expected an integer >= 1"),
        ("tile", 0, "tile: expected a side of at least 1 pixel"),
        ("tile", 16, "tile_overlap: expected 0 or 2 <= overlap < tile=16, got 32"),
        ("channels_last", "yes", "channels_last 'yes': expected True or False"),
        ("compile_backend", "", "compile_backend '': expected a backend name"),
    ],
)
def test_bad_options_are_named_when_built_before_any_work(option, value, message):
    with pytest.raises(InputError, match=message):
        EvalOptions(**{option: value})


def test_options_object_scores_as_the_defaults_and_is_frozen(tmp_path):
    import dataclasses

    write_synth_layout(tmp_path / "data", count=2)
    dataset = open_dataset("synth-rain", tmp_path / "data")
    plain, summary = evaluate(IdentityModel(), dataset)
    explicit, same = evaluate(IdentityModel(), dataset, options=EvalOptions(device="cpu"))
    assert [{k: v for k, v in r.items() if k != "seconds"} for r in plain] == [
        {k: v for k, v in r.items() if k != "seconds"} for r in explicit
    ]
    assert list(summary) == list(same)  # the summary's keys, in order
    with pytest.raises(dataclasses.FrozenInstanceError):
        EvalOptions().batch_size = 2


def test_the_static_environment_is_read_once_per_process_and_device(monkeypatch):
    import irnext.env as env

    calls = []
    monkeypatch.setattr(env, "git_commit", lambda: calls.append(1) or "abc")
    env._static_stamp.cache_clear()
    try:
        first, second = env.environment_stamp("cpu"), env.environment_stamp("cpu")
        assert len(calls) == 1 and first["git_commit"] == second["git_commit"] == "abc"
        torch.set_num_threads(torch.get_num_threads())  # settings are still read per call
        assert "timestamp_utc" in second and second["torch_num_threads"] == torch.get_num_threads()
    finally:
        env._static_stamp.cache_clear()  # later stamps read the real commit


def test_each_chunk_is_read_once_after_the_next_chunk_was_launched(tmp_path, monkeypatch):
    from irnext.metrics.protocols import PendingScores

    write_synth_layout(tmp_path / "data", count=5)
    events = []

    class Recorder(torch.nn.Module):
        def forward(self, x):
            events.append(("forward", x.shape[0]))
            return x

    original = PendingScores.read

    def read(self):
        events.append(("read", len(self._table[0])))
        return original(self)

    monkeypatch.setattr(PendingScores, "read", read)
    dataset = open_dataset("synth-haze", tmp_path / "data")
    rows, _ = evaluate(
        Recorder(), dataset, options=EvalOptions(device="cpu", batch_size=2, num_workers=1)
    )
    # Chunks of 2, 2, 1: chunk k's one read comes after chunk k + 1's forward pass.
    assert events == [
        ("forward", 2), ("forward", 2), ("read", 2), ("forward", 1), ("read", 2), ("read", 1)
    ]  # fmt: skip
    assert [row["name"] for row in rows] == [pair.name for pair in dataset.pairs]


def test_default_workers_leave_a_cpu_to_the_main_process(monkeypatch):
    from irnext.evaluation import default_workers

    for cpus, workers in ((1, 0), (2, 1), (3, 2), (16, 4), (None, 0)):
        monkeypatch.setattr("os.cpu_count", lambda cpus=cpus: cpus)
        assert default_workers("cuda") == workers and default_workers("cpu") == 0


def test_progress_off_a_terminal_is_periodic_lines_on_stderr():
    import io

    from irnext.cli.progress import progress_counter

    stream = io.StringIO()
    with progress_counter(5, "m on d", every_s=3600, stream=stream) as update:
        for _ in range(5):
            update(1)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1 and lines[0].startswith("m on d: 5/5 images")
