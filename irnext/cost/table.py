"""The numbers of `irnext models`: each named model's parameters and MACs at 1 x 3 x 256 x 256.

Counting every model takes ~10 s and over 1 GB on a CPU, for numbers that change only when a
model does; so they are counted once by `python benchmarks/model_counts.py`, which rewrites
`model_counts.json` beside this module with its provenance (counter, input, torch and code
version), and read from there (no torch import). tests/test_model_counts.py recounts them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from irnext.errors import InputError

STORED = Path(__file__).with_name("model_counts.json")
SIZE = 256  # the papers' 1 x 3 x 256 x 256 convention
COUNTER = (
    "torch.utils.flop_counter.FlopCounterMode FLOPs / 2 with the suite's handles "
    "(irnext.cost.counters, convention: irnext.cost.conventions)"
)


def stored_counts(path: Path = STORED) -> dict[str, dict[str, int]]:
    """{model name: {"params", "macs"}} as last counted (see `count_table`)."""
    try:
        models = json.loads(path.read_text())["models"]
    except (OSError, ValueError, KeyError) as error:
        raise InputError(
            f"{path}: expected the stored model counts ({error}); rewrite them with "
            "`python benchmarks/model_counts.py`"
        ) from error
    return models


def count_model(name: str, *, size: int = SIZE) -> dict[str, int]:
    """Parameters and torch-counted MACs of named model `name` at 1 x 3 x size x size."""
    from irnext.cost.complexity import count_named

    counts = count_named(name, (1, 3, size, size), counters=("torch",))
    return {"params": counts["params"], "macs": counts["macs_torch"]}


def count_table(names: Iterable[str]) -> dict[str, Any]:
    """The stored table: every model of `names` counted now, and how."""
    import torch

    from irnext._version import __version__
    from irnext.env import git_commit

    provenance = {
        "written_by": "python benchmarks/model_counts.py",
        "counter": COUNTER,
        "input_shape": [1, 3, SIZE, SIZE],
        "torch": torch.__version__,
        "irnext_version": __version__,
        "git_commit": git_commit(),
    }
    return {"provenance": provenance, "models": {name: count_model(name) for name in names}}
