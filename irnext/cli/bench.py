"""`irnext bench`: one stage of the comparison pipeline (dvc.yaml), configured by params.yaml.

irnext bench cell --task haze --model restormer-mini --seed 0   # train, then evaluate
irnext bench identity --task haze                                # score the input itself
irnext bench summary --task haze    # results/metrics/haze.json and results/visual/haze

Each stage's `irnext` commands are built from the profile (irnext.pipeline.stages; a cell's
in irnext.pipeline.cell) and run in this process, each printed first (one process per stage:
the pipeline pays torch's start-up once). The profile is checked whole before anything runs.
"""

from __future__ import annotations

import argparse
import shlex
from pathlib import Path

DATASETS_FILE = Path("datasets.yaml")
_RUNS_MODELS = ("cell", "latency", "scaling", "ablate", "pretrained")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("bench", help="one train/evaluate cell of the pipeline")
    cells = parser.add_subparsers(dest="cell", required=True, metavar="CELL")
    for name, helptext in (
        ("cell", "train MODEL on TASK with the profile's recipe, then score it"),
        ("identity", "score the identity (the input itself) on every test set of TASK"),
        ("summary", "TASK's DVC metrics (every model, every seed) and its visual comparison"),
        ("complexity", "parameters and MACs of every compared model (cost_models)"),
        ("latency", "every compared model timed side by side on the pipeline's device"),
        ("scaling", "latency and memory against resolution (latency.scaling_models)"),
        ("ablate", "one ablation study with the profile's recipe and seeds"),
        ("pretrained", "official weights (params pretrained.NAME) on every test set of a task"),
    ):
        cell = cells.add_parser(name, help=helptext)
        if name in ("cell", "identity", "summary"):
            cell.add_argument("--task", required=True, help="a task of the profile")
        if name == "cell":
            cell.add_argument("--model", required=True, help="a model of the profile")
            cell.add_argument("--seed", required=True, type=int, help="training seed")
        if name == "ablate":
            cell.add_argument("--study", required=True, help="NAME of ablations/NAME.yaml")
        if name == "pretrained":
            cell.add_argument("--name", required=True, help="a weights entry of the profile")
        cell.add_argument("--params", type=Path, default=Path("params.yaml"), help="the profile")
        cell.add_argument(
            "--datasets", type=Path, default=DATASETS_FILE, help="dataset roots (YAML)"
        )
        cell.add_argument("--dry-run", action="store_true", help="print the commands only")
        cell.set_defaults(func=_run)
    __import__("irnext.cli.launch", fromlist=["add_parser"]).add_parser(cells)  # bench launch


def _run(args: argparse.Namespace) -> int:
    from irnext.cli import main
    from irnext.pipeline.cell import check_requirements, finish_cell
    from irnext.pipeline.profile import load_params
    from irnext.pipeline.profile_schema import require_valid
    from irnext.pipeline.stages import stage_commands

    params = load_params(args.params)
    require_valid(params, args.params)  # before anything trains
    if args.cell in _RUNS_MODELS and not args.dry_run:
        check_requirements(params, args.params)
    if args.cell == "complexity":
        from irnext.pipeline.cost import complexity

        complexity(params)
        return 0
    for command in stage_commands(params, args):
        print("irnext " + shlex.join(command), flush=True)
        if not args.dry_run:
            code = main(command)
            if code:
                return code
    if args.cell == "cell" and not args.dry_run:
        finish_cell(args)
    return 0
