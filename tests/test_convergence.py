"""Convergence: the plateau criterion on hand-made curves, training compute by hand, the
cell's validation flags, and the report's convergence section."""

import argparse
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from irnext.cost.training_compute import training_macs_per_step
from irnext.errors import InputError
from irnext.pipeline.cell import recipe_flags, train_command
from irnext.pipeline.convergence import convergence_record, validation_flags
from irnext.pipeline.profile import load_params
from irnext.pipeline.stages import ablate_command
from irnext.report.convergence import combined, model_verdicts, plateau, plateau_verdicts
from irnext.report.convergence_section import seed_band

STEPS = [27 * k for k in range(1, 9)]  # the default profile: every 1/8 of 216 steps


def test_a_rising_curve_is_improving_with_the_hand_computed_gain():
    psnr = [20.0 + 0.5 * k for k in range(8)]  # 0.5 dB every 27 steps
    result = plateau(STEPS, psnr, budget=216)
    # Last quarter: steps 162, 189, 216; slope 0.5 / 27 dB per step over 54 steps = 1.0 dB.
    assert result["verdict"] == "improving" and result["points"] == 3
    assert result["gain_db"] == pytest.approx(1.0)


def test_a_flat_curve_has_plateaued():
    result = plateau(STEPS, [30.0] * 8, budget=216)
    assert result["verdict"] == "plateaued" and result["gain_db"] == pytest.approx(0.0)


def test_a_noisy_flat_curve_has_plateaued_where_best_minus_start_would_not():
    psnr = [25.0, 28.0, 29.5, 29.9, 30.0, 30.1, 29.95, 30.10, 30.00][1:]
    window = [29.95, 30.10, 30.00]  # steps 162, 189, 216
    assert psnr[-3:] == window
    assert max(window) - window[0] > 0.1  # the naive criterion would call it improving
    slope = np.polyfit([162, 189, 216], window, 1)[0]  # numpy's least squares, by hand: 0.05/54
    assert slope * 54 == pytest.approx(0.05)
    result = plateau(STEPS, psnr, budget=216)
    assert result["verdict"] == "plateaued"
    assert result["gain_db"] == pytest.approx(slope * 54)


def test_the_threshold_separates_a_small_from_a_clear_gain():
    base = [30.0] * 5
    assert plateau(STEPS, base + [30.0, 30.04, 30.08])["verdict"] == "plateaued"  # 0.08 dB
    assert plateau(STEPS, base + [30.0, 30.1, 30.2])["verdict"] == "improving"  # 0.2 dB
    assert plateau(STEPS, base + [30.0, 30.1, 30.2], threshold_db=0.3)["verdict"] == "plateaued"


def test_a_saturating_curve_plateaus_and_an_overfitting_one_too():
    rising = [30 - 8 * np.exp(-k) for k in range(1, 9)]
    assert plateau(STEPS, rising)["verdict"] == "plateaued"
    falling = [30.0, 30.5, 30.8, 31.0, 31.0, 30.9, 30.7, 30.5]
    result = plateau(STEPS, falling)
    assert result["verdict"] == "plateaued" and result["gain_db"] < 0


def test_too_few_points_or_a_curve_short_of_its_budget_is_unknown():
    short = plateau([216], [30.0], budget=216)  # one end-of-training validation only
    assert short["verdict"] == "unknown" and short["gain_db"] is None
    assert "1 validation(s)" in short["reason"]
    two = plateau([54, 108, 162, 216], [20.0, 25.0, 28.0, 30.0], budget=216)
    assert two["verdict"] == "unknown" and two["points"] == 2  # 162 and 216 only
    stopped = plateau(STEPS[:6], [30.0] * 6, budget=216)  # ended at 162 of 216
    assert stopped["verdict"] == "unknown" and "162" in stopped["reason"]
    assert plateau([], [], budget=216)["verdict"] == "unknown"


def test_malformed_curves_are_named_errors():
    with pytest.raises(InputError, match="3 steps but 2"):
        plateau([1, 2, 3], [1.0, 2.0])
    with pytest.raises(InputError, match="strictly increasing"):
        plateau([1, 3, 2], [1.0, 2.0, 3.0])


def test_a_model_plateaued_only_when_every_seed_has():
    assert combined(["plateaued", "plateaued"]) == "plateaued"
    assert combined(["plateaued", "improving", "unknown"]) == "improving"
    assert combined(["plateaued", "unknown"]) == "unknown"
    with pytest.raises(InputError):
        combined([])


def _record(task, model, seed, psnr, steps=STEPS, macs=6):
    return {
        "task": task,
        "model": model,
        "seed": seed,
        "steps": steps[-1],
        "train_macs_per_step": macs,
        "validations": [{"step": s, "val_psnr_db": p} for s, p in zip(steps, psnr)],
    }


def test_plateau_verdicts_are_plain_rows_per_seed_and_per_model():
    flat, rising = [30.0] * 8, [20.0 + k for k in range(8)]
    records = [_record("rain", "a", 0, flat), _record("rain", "a", 1, rising)]
    records.append(_record("rain", "b", 0, flat))
    rows = plateau_verdicts(records)
    assert [(r["model"], r["seed"], r["verdict"]) for r in rows] == [
        ("a", 0, "plateaued"),
        ("a", 1, "improving"),
        ("b", 0, "plateaued"),
    ]
    assert json.loads(json.dumps(rows)) == rows  # plain data, for a CSV or JSON table
    models = {m["model"]: m for m in model_verdicts(rows)}
    assert models["a"]["verdict"] == "improving" and models["a"]["seeds"] == [0, 1]
    assert models["a"]["final_val_psnr_db"] == pytest.approx((30.0 + 27.0) / 2)
    assert models["a"]["gain_db"] == pytest.approx((0.0 + 2.0) / 2)  # rising: 1 dB / 27 steps
    assert models["b"]["verdict"] == "plateaued"


def test_the_seed_band_is_the_mean_and_range_at_shared_steps():
    a = _record("t", "m", 0, [1.0, 2.0, 3.0], steps=[10, 20, 30])
    b = _record("t", "m", 1, [3.0, 4.0], steps=[10, 20])
    band = seed_band([a, b])
    assert band == {"step": [10, 20], "mean": [2.0, 3.0], "low": [1.0, 2.0], "high": [3.0, 4.0]}


def test_training_macs_per_step_are_three_forwards_of_the_training_batch():
    conv = nn.Conv2d(3, 5, 3, padding=1, bias=False)
    record = training_macs_per_step(conv, batch_size=4, patch_size=16)
    forward = 4 * 16 * 16 * 5 * 3 * 9  # per output pixel and channel: 3 x 3 x 3 products
    assert record["forward_macs"] == forward
    assert record["train_macs_per_step"] == 3 * forward
    assert "Kaplan" in record["macs_convention"]
    with pytest.raises(InputError, match="batch_size=0"):
        training_macs_per_step(conv, batch_size=0, patch_size=16)


def _args(**values) -> argparse.Namespace:
    return argparse.Namespace(datasets=Path("datasets.yaml"), cell="cell", **values)


def test_cells_validate_on_the_val_split_and_ablations_do_not():
    params = load_params(Path("profiles/default.yaml"))
    every = params["train"]["val_every_steps"]
    command = train_command(params, _args(task="rain", model="nafnet-mini", seed=0))
    at = command.index("--val-split")
    assert command[at : at + 4] == ["--val-split", "val", "--val-every-steps", str(every)]
    assert command.count("--val-every-steps") == 1
    assert "--val-every-steps" not in recipe_flags(params)
    assert "--val-every-steps" not in ablate_command(params, "depth", recipe_flags(params))
    budget = params["train"]["epochs"] * params["synth"]["train_count"] // 4
    assert budget // every == 8  # every 1/8 of the budget: 3 validations in the last quarter


def test_a_paper_profile_with_validation_steps_is_refused():
    params = load_params(Path("profiles/paper.yaml"))
    assert validation_flags(params) == []  # the paper profile does not validate
    params["train"]["val_every_steps"] = 100
    with pytest.raises(InputError, match="no validation split"):
        validation_flags(params)


def test_validation_without_a_val_split_is_refused_before_training():
    params = load_params(Path("profiles/default.yaml"))
    params["synth"]["val_count"] = 0
    with pytest.raises(InputError, match="synth.val_count = 0"):
        validation_flags(params)


def test_the_convergence_record_keeps_the_validation_curve():
    history = {
        "steps": 54,
        "config": {"batch_size": 4, "patch_size": 64},
        "validations": [
            {"step": 27, "epoch": 3, "batch": 3, "val_psnr_db": 20.5, "val_ssim": 0.6},
            {"step": 54, "epoch": 6, "batch": 6, "val_psnr_db": 21.0, "val_ssim": 0.7},
        ],
    }
    macs = {"forward_macs": 2, "train_macs_per_step": 6, "macs_convention": "x3"}
    record = convergence_record(history, task="haze", model="m", seed=1, macs_per_step=macs)
    assert record["validations"] == [
        {"step": 27, "val_psnr_db": 20.5, "val_ssim": 0.6},
        {"step": 54, "val_psnr_db": 21.0, "val_ssim": 0.7},
    ]
    assert (record["steps"], record["train_macs_per_step"], record["seed"]) == (54, 6, 1)


def _write(results: Path, record: dict) -> None:
    path = results / "convergence" / record["task"] / f"{record['model']}-s{record['seed']}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record))


def test_the_report_plots_the_curves_and_labels_unconverged_rankings(tmp_path):
    from irnext.report import render_report

    results = tmp_path / "results"
    rising, flat = [20.0 + k for k in range(8)], [30.0] * 8
    for seed in (0, 1):
        _write(results, _record("rain", "irnext-mini", seed, rising))
        _write(results, _record("rain", "nafnet-mini", seed, flat))
        _write(results, _record("haze", "irnext-mini", seed, flat))
        _write(results, _record("haze", "nafnet-mini", seed, [29.0] * 8))
    text = render_report(results, results / "report.md").read_text()
    assert "## Convergence" in text
    rain = next(line for line in text.splitlines() if line.startswith("- **rain**"))
    assert "at 216 steps, still improving (`irnext-mini` not plateaued)" in rain
    assert "not an architecture result" in rain
    haze = next(line for line in text.splitlines() if line.startswith("- **haze**"))
    assert "every model had plateaued by 216 steps" in haze
    assert "`nafnet-mini` (30.00 dB) >" in rain  # ranked by final validation PSNR here
    for name in ("validation_steps", "validation_compute"):
        assert (results / "figures" / f"{name}.png").stat().st_size > 0
        assert f"](figures/{name}.png)" in text


def test_malformed_convergence_records_are_named(tmp_path):
    from irnext.report.convergence import read_records

    path = tmp_path / "convergence" / "rain" / "m-s0.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"task": "rain", "model": "m"}))
    with pytest.raises(InputError, match="m-s0.json: missing keys"):
        read_records(tmp_path)


def test_the_training_figure_draws_no_losses(tmp_path):
    from irnext.report import figures

    history = {"epochs": [{"loss": 0.5, "steps": 8}], "validations": []}
    path = figures.training_curves(
        [{"task": "rain", "model": "m", "seed": 0, "history": history}], tmp_path / "t.png"
    )
    assert path.is_file()
    assert torch.__version__  # the figure module imported without touching model code


def test_a_task_with_an_unknown_verdict_shows_no_architecture_result(tmp_path):
    from irnext.report import render_report

    results = tmp_path / "results"
    _write(results, _record("snow", "a", 0, [30.0] * 8))
    _write(results, _record("snow", "b", 0, [29.0], steps=[216]))  # one validation: unknown
    text = render_report(results, results / "report.md").read_text()
    snow = next(line for line in text.splitlines() if line.startswith("- **snow**"))
    assert "at 216 steps, convergence not shown (`b` unknown)" in snow
    assert "not an architecture result" in snow
    assert "| snow | b | 1 | 216 | 29.00 | - | unknown |" in text


def test_the_report_writes_every_runs_verdict_as_csv(tmp_path):
    import pandas as pd

    from irnext.report import render_report

    results = tmp_path / "results"
    _write(results, _record("rain", "a", 0, [20.0 + k for k in range(8)]))
    _write(results, _record("rain", "a", 1, [30.0] * 8))
    render_report(results, results / "report.md")
    table = pd.read_csv(results / "tables" / "plateau.csv")
    assert list(table["verdict"]) == ["improving", "plateaued"]
    assert table["gain_db"].tolist() == pytest.approx([2.0, 0.0])  # 1 dB per 27 steps x 54


def test_records_can_be_limited_to_the_profiles_cells(tmp_path):
    from irnext.report.convergence import read_records

    _write(tmp_path, _record("rain", "a", 0, [30.0] * 8))
    _write(tmp_path, _record("rain", "stale", 0, [30.0] * 8))
    assert len(read_records(tmp_path)) == 2
    assert [r["model"] for r in read_records(tmp_path, {("rain", "a", 0)})] == ["a"]


@pytest.mark.slow
def test_a_miniature_cell_validates_and_records_its_curve(tmp_path, monkeypatch):
    import yaml

    import irnext.cli
    from irnext.data.synth import build_benchmark

    params = load_params(Path("profiles/default.yaml"))
    params.update(tasks=["haze"], models=["irnext-mini"], seeds=[0])
    params["synth"].update(train_count=4, test_count=1, val_count=2, size_px=32)
    params["train"].update(epochs=2, batch_size=2, patch_size=32, val_every_steps=1)
    params["evaluate"]["device"] = "cpu"
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    monkeypatch.chdir(tmp_path)
    build_benchmark(task="haze", out="data/synth/haze", **_synth_kwargs(params["synth"]))
    argv = ["bench", "cell", "--task", "haze", "--model", "irnext-mini", "--seed", "0"]
    assert irnext.cli.main(argv) == 0
    record = json.loads(Path("results/convergence/haze/irnext-mini-s0.json").read_text())
    assert [v["step"] for v in record["validations"]] == [1, 2, 3, 4]  # 2 epochs x 2 steps
    assert record["steps"] == 4 and record["train_macs_per_step"] == 3 * record["forward_macs"]
    assert Path("models/haze/irnext-mini-s0.pt").is_file()
    assert not Path("models/haze/irnext-mini-s0.best.pt").exists()  # the last is compared


def _synth_kwargs(synth: dict) -> dict:
    keys = ("seed", "train_count", "test_count", "val_count", "size_px")
    return {key: synth[key] for key in keys}


def test_the_dvc_plot_of_a_cell_is_its_validation_psnr_not_its_loss(tmp_path):
    from irnext.pipeline.convergence import write_curve

    history = tmp_path / "h.json"
    history.write_text(
        json.dumps(
            {
                "epochs": [{"epoch": 1, "loss": 0.9, "steps": 4}],
                "validations": [{"step": 2, "epoch": 0, "val_psnr_db": 20.0, "val_ssim": 0.5}],
            }
        )
    )
    write_curve(history, tmp_path / "curve.json")
    assert json.loads((tmp_path / "curve.json").read_text()) == [{"step": 2, "val_psnr_db": 20.0}]


def test_a_flat_curve_that_the_budget_study_sees_rise_is_labelled_still_improving(tmp_path):
    from irnext.report import render_report

    results = tmp_path / "results"
    _write(results, _record("haze", "a", 0, [30.0] * 8))  # flat: plateaued by its own curve
    _write(results, _record("haze", "b", 0, [29.0] * 8))
    study = results / "budget" / "budget.csv"
    study.parent.mkdir(parents=True)
    # At the profile's 216 steps as in the runs; at 864 `a` gains 1.5 dB, `b` 0.05 dB.
    study.write_text(
        "task,model,seed,budget_steps,final_val_psnr_db\n"
        "haze,a,0,216,30.0\nhaze,b,0,216,29.0\nhaze,a,0,864,31.5\nhaze,b,0,864,29.05\n"
    )
    text = render_report(results, results / "report.md").read_text()
    haze = next(line for line in text.splitlines() if line.startswith("- **haze**"))
    assert "at 216 steps, still improving (budget study, final validation PSNR at 864 steps: " \
        "`a` +1.50 dB)" in haze  # fmt: skip
    assert "`b`" not in haze.split("still improving")[1].split(":")[0]  # b gained < 0.1 dB
    assert "| haze | a | 1 | 216 | 30.00 | +0.00 | improving (budget study: +1.50 dB" in text
    assert "### Budget study" in text and "the same ranking" in text
    from irnext.report.render import _still_improving

    verdict = {"verdict": "improving", "steps": 216, "budget_gain_db": 1.5, "budget_steps": 864}
    (note, _) = _still_improving({("haze", "a"): verdict}, "haze")
    assert "or rising further at a longer budget in the budget study" in note
    from irnext.report.render import _plateau

    verdict["gain_db"] = 0.0  # the comparisons CSV's plateau column says what the verdict rests on
    assert _plateau(verdict) == (
        "improving (+0.00 dB over the last quarter of 216 steps; "
        "budget study: +1.50 dB at 864 steps)"
    )
