"""The report's budget study: rankings per budget, agreement with the longest budget, the
section and its refusals, on hand-made study tables."""

from pathlib import Path

import pytest

from irnext.errors import InputError
from irnext.report import budget
from irnext.report.sections import Context
from irnext.report.tables import TableWriter

HEADER = "task,model,seed,budget_steps,final_val_psnr_db,train_seconds,load\n"


def _rows(*entries):
    return [
        {"task": t, "model": m, "seed": s, "budget_steps": b, "final_val_psnr_db": p}
        for t, m, s, b, p in entries
    ]


# haze: b wins at 128 but a at 512 (the ranking flips); rain: a wins at both budgets.
ROWS = _rows(
    ("haze", "a", 0, 128, 20.0), ("haze", "b", 0, 128, 20.5),
    ("haze", "a", 0, 512, 23.0), ("haze", "b", 0, 512, 22.0),
    ("rain", "a", 0, 128, 25.0), ("rain", "b", 0, 128, 24.0),
    ("rain", "a", 0, 512, 27.0), ("rain", "b", 0, 512, 26.9),
)  # fmt: skip


def test_ranking_is_by_mean_over_seeds():
    rows = _rows(("haze", "a", 0, 64, 20.0), ("haze", "a", 1, 64, 22.0), ("haze", "b", 0, 64, 20.9))
    # a: (20 + 22) / 2 = 21.0 > b: 20.9, although b beats a's seed 0.
    assert budget.ranking(rows, "haze", 64) == ["a", "b"]


def test_verdicts_say_where_the_ranking_flips():
    found = {v["task"]: v for v in budget.verdicts(ROWS, {"haze": 128, "rain": 128})}
    assert found["haze"]["at_profile"] == ["b", "a"] and found["haze"]["at_longest"] == ["a", "b"]
    assert found["haze"]["agree"] is False
    assert found["rain"]["agree"] is True
    assert found["rain"]["budgets"] == [128, 512] and found["rain"]["longest_steps"] == 512


def test_a_budget_the_study_did_not_run_is_said_not_compared():
    (verdict,) = budget.verdicts(ROWS[:4], {"haze": 216})
    assert verdict["at_profile"] is None and verdict["agree"] is None
    assert "was not studied" in budget._line(verdict)


def test_section_renders_table_lines_and_figure(tmp_path: Path):
    folder = tmp_path / "results" / "budget"
    folder.mkdir(parents=True)
    lines = [f"{t},{m},{s},{b},{p},1.0,0.1\n" for t, m, s, b, p in (r.values() for r in ROWS)]
    (folder / "budget.csv").write_text(HEADER + "".join(lines))
    context = Context(tmp_path, tmp_path / "figures", TableWriter(tmp_path / "tables"))
    text = budget.section(folder / "budget.csv", {"haze": 128, "rain": 128}, context)
    assert "a **different** ranking" in text and "the same ranking" in text
    assert (tmp_path / "figures" / "budget.png").stat().st_size > 0
    assert (tmp_path / "tables" / "budget.csv").exists()


def test_no_study_no_section(tmp_path: Path):
    context = Context(tmp_path, tmp_path / "figures", TableWriter(tmp_path / "tables"))
    assert budget.section(tmp_path / "budget" / "budget.csv", {}, context) == ""


@pytest.mark.parametrize(
    "text, named",
    [
        ("task,model,seed,budget_steps\nhaze,a,0,64\n", "final_val_psnr_db"),
        (HEADER + "haze,a,0,sixty,20.0,1,0\n", "sixty"),
    ],
)
def test_a_malformed_study_is_a_named_error(tmp_path: Path, text: str, named: str):
    path = tmp_path / "budget.csv"
    path.write_text(text)
    with pytest.raises(InputError, match=named):
        budget.read_budget(path)


def test_gains_are_from_the_profiles_budget_to_the_longest():
    found = budget.gains(ROWS, {"haze": 128, "rain": 128})
    assert found[("haze", "a")] == {"gain_db": pytest.approx(3.0), "longest_steps": 512}
    assert found[("rain", "b")]["gain_db"] == pytest.approx(2.9)
    assert budget.gains(ROWS, {"haze": 512}) == {}  # the profile's is the longest: nothing to add


def test_a_model_a_longer_budget_still_improves_is_not_called_plateaued():
    from irnext.report.convergence import THRESHOLD_DB, with_budget_study

    models = [
        {"task": "haze", "model": "a", "steps": 128, "verdict": "plateaued", "gain_db": 0.01},
        {"task": "haze", "model": "b", "steps": 128, "verdict": "plateaued", "gain_db": 0.0},
    ]
    gains = {("haze", "a"): {"gain_db": 3.0, "longest_steps": 512},
             ("haze", "b"): {"gain_db": THRESHOLD_DB / 2, "longest_steps": 512}}  # fmt: skip
    a, b = with_budget_study(models, gains)
    assert (a["verdict"], a["budget_gain_db"], a["budget_steps"]) == ("improving", 3.0, 512)
    assert b["verdict"] == "plateaued" and "budget_gain_db" not in b
