"""Fixtures of the CPU performance suites (pytest-benchmark).

    pytest benchmarks/bench_models.py --benchmark-json=benchmarks/results/cpu.json

Each benchmark stores its environment stamp and its inputs in `extra_info`, so the JSON that the
report reads says what produced every number.
"""

from __future__ import annotations

import pytest

from irnext.env import environment_stamp


@pytest.fixture(scope="session")
def environment() -> dict:
    return environment_stamp("cpu")
