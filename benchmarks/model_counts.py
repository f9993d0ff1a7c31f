"""Recount the `irnext models` table and store it: irnext/cost/model_counts.json.

    python benchmarks/model_counts.py            # every named model (~10 s on 2 CPU cores)

Run it after changing a model or the MAC convention; tests/test_model_counts.py fails until the
stored numbers match a recount. The file carries the counter, input, torch and code version.
"""

from __future__ import annotations

import sys

from irnext.cost.table import STORED, count_table
from irnext.io import atomic_write_json
from irnext.models.registry import list_models


def main() -> int:
    table = count_table(list_models())
    atomic_write_json(STORED, table, indent=1)
    for name, counts in table["models"].items():
        print(f"{name:<24} {counts['params']:>12,} {counts['macs'] / 1e9:>9.2f} GMACs")
    print(f"wrote {STORED}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
