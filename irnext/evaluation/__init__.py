"""Evaluation: any model on any dataset split under a named metric protocol."""

from irnext.evaluation.loader import default_workers, resolve_device
from irnext.evaluation.options import EvalOptions
from irnext.evaluation.outputs import split_run, write_evaluation
from irnext.evaluation.records import (
    RAIN13K_SETS,
    dpdd_aggregates,
    json_safe,
    rain13k_average,
    read_summary,
    summarise,
    write_rows,
    write_summary,
)
from irnext.evaluation.run import IdentityModel, evaluate, file_sha256
from irnext.evaluation.timing import RUN_KEYS

__all__ = [
    "EvalOptions",
    "RAIN13K_SETS",
    "RUN_KEYS",
    "IdentityModel",
    "default_workers",
    "dpdd_aggregates",
    "evaluate",
    "file_sha256",
    "json_safe",
    "rain13k_average",
    "read_summary",
    "resolve_device",
    "split_run",
    "summarise",
    "write_evaluation",
    "write_rows",
    "write_summary",
]
