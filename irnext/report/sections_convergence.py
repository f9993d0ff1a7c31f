"""The report's convergence section: validation curves and each model's plateau verdict."""

from __future__ import annotations

from typing import Any

from irnext.report import convergence
from irnext.report.figures_training import validation_curves
from irnext.report.sections import Context
from irnext.report.tables import frame

INTRO = (
    "Every training run validates on its task's validation split (other crops and degradation "
    "draws of the training photographs, never a test scene). A model has plateaued when its "
    f"seed-mean validation PSNR gained less than {convergence.GAIN_DB} dB over the last "
    f"{convergence.FRACTION:.0%} of its budget; a comparison that involves a model still "
    "improving ranks the models at that number of steps, not the architectures. Training "
    f"compute is {convergence.TRAINING_PASSES} x the forward MACs of a crop (forward and "
    "backward) x the batch, per step."
)


def curves(data: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """{task: [{model, steps, psnr, gmacs_per_step}]} of the histories with validations."""
    gmacs = {r["model"]: r.get("gmacs_torch") for r in data["complexity"]}
    found: dict[str, list[dict[str, Any]]] = {}
    for task, model in sorted({(h["task"], h["model"]) for h in data["histories"]}):
        runs = [h for h in data["histories"] if (h["task"], h["model"]) == (task, model)]
        steps, psnr = convergence.seed_mean_curve(runs)
        if not steps:
            continue
        forward = gmacs.get(model)
        per_step = forward and convergence.training_gmacs_per_step(runs[0]["history"], forward)
        found.setdefault(task, []).append(
            {"model": model, "steps": steps, "psnr": psnr, "gmacs_per_step": per_step}
        )
    return found


def convergence_section(data: dict[str, Any], context: Context) -> str:
    found = curves(data)
    if not found:
        return "## Convergence\n\n(no validation curves found: train with --val-split)"
    rows = []
    for task, entries in sorted(found.items()):
        for entry in entries:
            verdict = data["plateaus"].get((task, entry["model"]), convergence.Plateau(None))
            rows.append(
                [task, entry["model"], entry["steps"][-1], f"{entry['psnr'][-1]:.2f}",
                 verdict.verdict]
            )  # fmt: skip
    header = ["task", "model", "steps", "final validation PSNR (dB)", "verdict"]
    path = validation_curves(found, context.figures / "validation_curves.png")
    return "\n".join(
        [
            "## Convergence",
            "",
            INTRO,
            "",
            context.table(frame(header, rows), "convergence"),
            "",
            f"![validation curves]({context.link(path)})",
        ]
    )


def still_improving(data: dict[str, Any], task: str, models: list[str]) -> list[str]:
    """The task's note on models whose curves had not plateaued (empty when none)."""
    verdicts = {m: data["plateaus"].get((task, m)) for m in models}
    moving = [m for m, v in verdicts.items() if v is not None and v.plateaued is False]
    if not moving:
        return []
    steps = max(v.to_step for v in verdicts.values() if v is not None and v.to_step)
    names = ", ".join(f"`{m}`" for m in moving)
    return [
        f"**At {steps} steps, still improving**: {names} (validation PSNR still rising at the "
        "end of the budget). Comparisons involving them rank the models at this budget, not "
        "the architectures.",
        "",
    ]
