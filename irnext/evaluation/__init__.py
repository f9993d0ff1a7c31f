"""Evaluation: any model on any dataset split under a named metric protocol."""

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
from irnext.evaluation.run import IdentityModel, evaluate, file_sha256, resolve_device

__all__ = [
    "RAIN13K_SETS",
    "IdentityModel",
    "dpdd_aggregates",
    "evaluate",
    "file_sha256",
    "json_safe",
    "rain13k_average",
    "read_summary",
    "resolve_device",
    "summarise",
    "write_rows",
    "write_summary",
]
