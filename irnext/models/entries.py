"""What a named model is: an architecture plus a small dict of keyword arguments (timm's pattern).

Each model module (`variants`, `dehazeformer`, `baselines`, `minis`) declares its own
`ARCHITECTURES` (name -> keyword-only constructor) and `ENTRIES` (a tuple of `ModelEntry`);
`irnext.models.registry` reads those tables explicitly. This module imports nothing of the suite,
so the model modules and the registry never import each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ModelEntry:
    name: str
    architecture: str  # key of an ARCHITECTURES table: the class that `kwargs` configure
    kwargs: dict[str, Any] = field(default_factory=dict)
    task: str | None = None  # dehaze, desnow, motion_deblur, defocus_deblur, derain, test
    licence: str = "MIT"
    source: str = ""  # where the configuration comes from (paper, official code)
    assumption: str | None = None  # set where the configuration is inferred, not published
