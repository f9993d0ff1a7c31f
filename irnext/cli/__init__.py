"""The `irnext` command line: one sub-command module per area, each a thin wrapper.

Every sub-command module defines `add_parser(subparsers)`, which registers its parser and sets
`func` to a function taking the parsed arguments. This package is the only place that reads
`params.yaml`, through `irnext.pipeline.profile`; library code below it takes plain arguments.

`irnext --help` and `irnext COMMAND --help` answer at once: only the module of the command
being run is imported (the others are listed from `SUMMARIES`), and the modules import torch
inside their run functions, not at parse time.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import warnings

from irnext._version import __version__
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
    "profile",  # `irnext profile` and `irnext params check`
    "bench",
    "collect",  # `irnext collect` and `irnext visual`
)

# The one-line help of each command, for `irnext --help` without importing its module (a
# module missing here, e.g. one whose command is named otherwise, is imported to list it).
SUMMARIES = {
    "models": "list named models with params and MACs",
    "data": "dataset layouts, inspection, synthetic benchmark",
    "train": "train a model with the paper's recipe",
    "evaluate": "score a model (or the identity) on a dataset split under a metric protocol",
    "aggregate": "Rain13K average, DPDD indoor/outdoor/combined from evaluation summaries",
    "ablate": "train and score every variant of a study",
    "complexity": "parameters and MACs (fvcore, ptflops, torch) of named models",
    "latency": "forward (or training-step) latency and peak memory of a named model",
    "report": "render the Markdown report from results/",
}

# Third-party deprecation notices the baselines' code triggers (spandrel's architectures call
# torch.jit.script and torch.meshgrid without `indexing`): nothing a user can act on.
QUIET = (
    {"category": FutureWarning, "message": r"`torch\.jit\.script` is deprecated"},
    {"category": UserWarning, "message": r"torch\.meshgrid: in an upcoming release"},
    {"category": DeprecationWarning, "module": r"spandrel"},
)


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Descriptions kept as written (their examples are laid out by hand); every option's help
    ends with its default, where it has one (not for switches and unset options)."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        shown = not (default is None or default is False or default == argparse.SUPPRESS)
        shown = shown and default != []
        if shown and action.option_strings and "%(default)" not in text:
            text += " (default: %(default)s)"
        return text


class Parser(argparse.ArgumentParser):
    """Every parser of the command line, sub-commands' included, uses `HelpFormatter`."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The `irnext` parser. With `command`, only that sub-command's module is imported and the
    others are listed by name and summary ("" imports none); None imports every module."""
    parser = Parser(
        prog="irnext", description="Reproduce, ablate and compare IRNeXt for image restoration."
    )
    parser.add_argument("--version", action="version", version=f"irnext-bench {__version__}")
    subparsers = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", parser_class=Parser
    )
    for name in COMMANDS:
        if command is None or name == command or name not in SUMMARIES:
            importlib.import_module(f"irnext.cli.{name}").add_parser(subparsers)
        else:
            subparsers.add_parser(name, help=SUMMARIES[name])
    return parser


def _command(argv: list[str]) -> str:
    """The sub-command named in `argv` ("" when none is: `irnext --help`, `irnext --version`)."""
    return next((arg for arg in argv if not arg.startswith("-")), "")


def quiet_third_party_warnings() -> None:
    for rule in QUIET:
        warnings.filterwarnings("ignore", **rule)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    quiet_third_party_warnings()
    args = build_parser(_command(argv)).parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (InputError, FileNotFoundError) as error:
        print(f"irnext {args.command}: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
