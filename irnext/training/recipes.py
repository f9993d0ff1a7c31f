"""Each model's own training recipe per task, as its authors published it (docs/recipes.md).

A `Recipe` holds the authors' values with the file and lines they were read from, `official`
(the authors' code for that model and task) or `inferred` (none published for that task; the
reasoning says what stands in). `config` is the part the training loop honours, as
`TrainConfig` values; `unhonoured` names what it cannot do yet (fp16 loss scaling, ...).
Such a recipe is refused with `RecipeRefused`, never approximated, and so is a (model, task)
whose authors published no recipe.

The global batch is the authors' (GPUs x per-GPU batch). The loop has no gradient
accumulation: a run on fewer processes keeps the global batch by a larger per-process batch
(`train_config(..., processes=N)`), and stops with the named out-of-memory error where that
does not fit, rather than change the batch.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from irnext.errors import InputError
from irnext.training.config import RECIPES, TrainConfig


class RecipeRefused(InputError):
    """A recipe the suite will not run: none published, or a part the loop cannot honour."""


@dataclass(frozen=True)
class Source:
    repo: str  # owner/name on GitHub
    commit: str  # the commit read
    path: str
    lines: str  # e.g. "73-102"

    def __str__(self) -> str:
        return f"{self.repo}@{self.commit} {self.path}:{self.lines}"


@dataclass(frozen=True)
class Recipe:
    name: str  # `irnext train --recipe NAME`
    model: str  # the profile's model name (`irnext` = the task's IRNeXt model)
    task: str
    status: str  # "official" or "inferred"
    sources: tuple[Source, ...]
    gpus: int  # the authors' GPU count
    global_batch: int  # images per optimiser step over all GPUs
    published: dict[str, str]  # the authors' values, in words (schedule, crops, loss, ...)
    config: dict[str, Any]  # TrainConfig values (batch_size = the global batch, 1 process)
    unhonoured: tuple[str, ...] = ()  # parts the loop cannot do yet: the recipe is refused
    reasoning: str = ""  # why an inferred recipe stands for this task
    notes: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        if self.status not in ("official", "inferred"):
            raise InputError(f"recipe {self.name}: status {self.status!r}")
        if self.status == "inferred" and not self.reasoning:
            raise InputError(f"recipe {self.name}: an inferred recipe states its reasoning")


def train_config(name: str, *, processes: int = 1) -> TrainConfig:
    """The TrainConfig of recipe `name` for `processes` data-parallel processes (the global
    batch kept); the suite's IRNeXt recipes (`RECIPES`) as they are, refused recipes raise."""
    from irnext.training.recipe_table import OWN

    if name in RECIPES:
        return RECIPES[name]
    if name not in OWN:
        raise InputError(f"unknown recipe '{name}'; known: {', '.join(recipe_names())}")
    entry = OWN[name]
    if entry.unhonoured:
        raise RecipeRefused(
            f"recipe '{name}' ({entry.status}, {entry.sources[0]}) is refused: the training "
            f"loop cannot yet honour {'; '.join(entry.unhonoured)} (docs/recipes.md)"
        )
    stages = entry.config.get("progressive", ())
    batches = [entry.global_batch, *(batch for _, _, batch in stages)]
    if processes < 1 or any(batch % processes for batch in batches):
        raise InputError(
            f"recipe '{name}': global batch {' / '.join(map(str, batches))} does not split "
            f"over {processes} process(es)"
        )
    values = {**entry.config, "batch_size": entry.global_batch // processes}
    if stages:  # each stage's global batch kept the same way
        values["progressive"] = tuple((n, crop, b // processes) for n, crop, b in stages)
    return dataclasses.replace(TrainConfig(), **values)


def own_recipe(model: str, task: str) -> str:
    """The name of `model`'s own recipe for `task`; `RecipeRefused` where none is published
    (never guessed from another task)."""
    from irnext.training.recipe_table import OWN

    for entry in OWN.values():
        if entry.model == model and entry.task == task:
            return entry.name
    published = sorted(f"{e.task}" for e in OWN.values() if e.model == model)
    raise RecipeRefused(
        f"{model} has no published {task} recipe: refused, not guessed (its authors "
        f"published: {', '.join(published) or 'none'}); use `recipe: shared` for the "
        "controlled comparison, or score its official weights (`pretrained`)"
    )


def recipe_names() -> list[str]:
    from irnext.training.recipe_table import OWN

    return list(dict.fromkeys([*RECIPES, *OWN]))  # the IRNeXt recipes are in both


def recipe_status(name: str) -> str:
    """One line for --help: official or inferred, and refused where it is."""
    from irnext.training.config import RECIPE_STATUS
    from irnext.training.recipe_table import OWN

    if name in RECIPE_STATUS:
        return RECIPE_STATUS[name]
    entry = OWN[name]
    return entry.status + (", refused: not yet honoured" if entry.unhonoured else "")
