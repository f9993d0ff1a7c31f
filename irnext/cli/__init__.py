"""The `irnext` command line: one sub-command module per area, each a thin wrapper.

Every sub-command module defines `add_parser(subparsers)`, which registers its parser and sets
`func` to a function taking the parsed arguments. This package is the only place that reads
`params.yaml` (see `irnext.cli.params`); library code below it takes plain arguments.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from irnext import __version__
from irnext.errors import InputError

# Sub-command modules under irnext.cli, in the order `irnext --help` lists them.
COMMANDS = (
    "models",
    "data",
    "train",
    "evaluate",
    "aggregate",
    "ablate",
    "complexity",
    "latency",
    "report",
    "params_cmd",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="irnext", description="Reproduce, ablate and compare IRNeXt for image restoration."
    )
    parser.add_argument("--version", action="version", version=f"irnext-bench {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"irnext.cli.{name}").add_parser(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (InputError, FileNotFoundError) as error:
        print(f"irnext {args.command}: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
