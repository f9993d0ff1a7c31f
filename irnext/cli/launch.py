"""`irnext bench launch`: the profile's stale cells as submitit jobs, then recorded by DVC.

irnext bench launch --executor slurm --partition gpu --time 240 --gpus-per-cell 1 --max-parallel 16
irnext bench launch --status      # each cell: queued, running (step), requeued, done, failed (log)
irnext bench launch --commit      # after --no-wait: check the finished cells, record them
irnext bench launch --max-parallel 4 --gpus-per-cell 2   # this machine: 4 cells x 2 GPUs

The cells are the `cell@...` and `ablate@...` stages `dvc status` reports stale; each runs the
commands of its `irnext bench` stage (train with step checkpoints, resumable; evaluate), and
the clean ones are committed to dvc.lock, so `dvc repro` then runs only what follows them.
See docs/cluster.md.
"""

from __future__ import annotations

import argparse
import shlex
from functools import partial
from pathlib import Path

from irnext.errors import InputError

PARAMS = Path("params.yaml")  # the profile DVC runs (the stages' ${...} come from it)


def add_parser(cells: argparse._SubParsersAction) -> None:
    """Registered under `irnext bench` (its sub-parsers `cells`)."""
    from irnext.cli import HelpFormatter

    parser = cells.add_parser(
        "launch",
        help="run the stale cells as Slurm or local submitit jobs, then record them in dvc.lock",
        description=__doc__.split("\n\n")[1],
        formatter_class=HelpFormatter,
    )
    parser.add_argument(
        "--executor", choices=("local", "slurm"), default="local", help="where the jobs run"
    )
    parser.add_argument("--gpus-per-cell", type=int, help="default: 1 with CUDA, else 0")
    parser.add_argument(
        "--max-parallel", type=int, help="cells at once (default: local GPUs / per cell, or 1)"
    )
    parser.add_argument("--partition", help="Slurm partition")
    parser.add_argument(
        "--time", type=int, metavar="MIN", help="each job's time limit, minutes (slurm: required)"
    )
    parser.add_argument(
        "--slurm-option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="any other sbatch option, e.g. account=proj (repeatable)",
    )
    parser.add_argument(
        "--save-every-steps", type=int, default=100, help="steps between resumable checkpoints"
    )
    parser.add_argument("--no-wait", action="store_true", help="slurm: submit and return")
    parser.add_argument("--status", action="store_true", help="the latest launch's cells")
    parser.add_argument("--commit", action="store_true", help="record its finished cells")
    parser.add_argument("--dry-run", action="store_true", help="list the cells and commands")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from irnext.pipeline import launch, stale, status
    from irnext.pipeline.profile import load_params
    from irnext.pipeline.profile_schema import require_valid

    root = Path.cwd()
    if args.status:
        print(status.format_states(status.cell_states(root, launch.read_state(root))))
        return 0
    if args.commit:
        return _report(*launch.finish(root, launch.read_state(root)))
    if args.no_wait and args.executor != "slurm":
        raise InputError("--no-wait: only the slurm executor runs without this process")
    params = load_params(PARAMS)
    require_valid(params, PARAMS)
    options = _options(args)
    busy = status.unfinished(root)
    if busy and not args.dry_run:
        raise InputError(
            f"the latest launch still has {len(busy)} cell(s) queued or running ({busy[0]}, ...;"
            " `irnext bench launch --status`): wait for them, or cancel them and remove "
            f"{launch.STATE}"
        )
    stages = stale.stale_stages(root)
    state = launch.new_launch(root, options.executor)
    plans = [
        _plan(params, stage, launch.cell_folder(root, state, stage.name), options, args)
        for stage in stages
    ]
    if not plans or args.dry_run:
        _show(plans, options)
        return 0
    if args.no_wait:
        launch.submit_only(root, state, plans, options)
        print(f"submitted {len(plans)} cell(s); `irnext bench launch --status`, then --commit")
        return 0
    progress = status.printer(root, state)
    return _report(*launch.launch(root, state, plans, options, on_poll=progress))


def _options(args: argparse.Namespace):
    from irnext.pipeline.launch import LaunchOptions

    gpus = _local_gpus()
    per_cell = (1 if gpus else 0) if args.gpus_per_cell is None else args.gpus_per_cell
    if args.max_parallel is not None:
        parallel = args.max_parallel
    elif args.executor == "slurm":
        parallel = 256  # every cell at once: Slurm's queue decides (submitit's own cap)
    else:
        parallel = max(1, len(gpus) // per_cell) if per_cell else 1
    options = LaunchOptions(
        executor=args.executor,
        gpus_per_cell=per_cell,
        max_parallel=parallel,
        gpus=gpus,
        partition=args.partition,
        time_min=args.time,
        slurm_options=_key_values(args.slurm_option),
    )
    options.check()
    return options


def _local_gpus() -> tuple[int, ...]:
    import os

    import torch

    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is None:
        return tuple(range(torch.cuda.device_count()))
    try:
        return tuple(int(gpu) for gpu in visible.split(",") if gpu.strip())
    except ValueError:
        raise InputError(
            f"CUDA_VISIBLE_DEVICES={visible!r}: expected GPU indices such as 0,1,2"
        ) from None


def _key_values(pairs: list[str]) -> dict[str, str]:
    options = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise InputError(f"--slurm-option {pair!r}: expected KEY=VALUE, e.g. account=proj")
        options[key.strip()] = value.strip()
    return options


def _plan(params, stage, folder: Path, options, args: argparse.Namespace):
    """The job of one stale stage: its `irnext bench` command taken apart into a resumable
    training and the steps after it."""
    from irnext.cli import build_parser, main
    from irnext.pipeline import cell
    from irnext.pipeline.jobs import CellPlan

    argv = shlex.split(stage.cmd)
    if argv[:2] != ["irnext", "bench"]:
        raise InputError(f"dvc.yaml: stage {stage.name} runs {stage.cmd!r}; expected irnext bench")
    parsed = build_parser("bench").parse_args(argv[1:])
    common = {"stage": stage.name, "root": str(Path.cwd()), "folder": str(folder)}
    common.update(outs=stage.outs, gpus=options.gpus_per_cell, fingerprint=stage.fingerprint)
    # checked on the job's machine, where the cell runs (a login node may have no GPU)
    common["preflight"] = [partial(cell.check_requirements, params, PARAMS)]
    if parsed.cell != "cell":  # an ablation study trains many variants: requeued, it restarts
        return CellPlan(**common, steps=[partial(main, argv[1:])])
    train = _per_gpu_batch(cell.train_command(params, parsed), options.gpus_per_cell)
    steps = [partial(main, command) for command in cell.evaluate_commands(params, parsed)]
    steps.append(partial(cell.finish_cell, parsed))
    return CellPlan(**common, train=train, steps=steps, save_every_steps=args.save_every_steps)


def _per_gpu_batch(train: list[str], gpus: int) -> list[str]:
    """Under torchrun --batch-size is per process: split the recipe's batch over the GPUs,
    so a cell trains at the profile's batch size whatever its GPU count."""
    if gpus <= 1:
        return train
    if "--batch-size" not in train:
        raise InputError(f"the cell's training sets no --batch-size to split over {gpus} GPUs")
    at = train.index("--batch-size") + 1
    batch = int(train[at])
    if batch % gpus:
        raise InputError(f"params.yaml: train.batch_size {batch} does not split over {gpus} GPUs")
    return train[:at] + [str(batch // gpus)] + train[at + 1 :]


def _show(plans, options) -> None:
    print(f"{len(plans)} stale cell(s); executor {options.executor}")
    for plan in plans:
        print(f"{plan.stage}:")
        if plan.train:
            print(f"  irnext {shlex.join(plan.train)} (step checkpoints, resumable)")
        for step in plan.steps:
            print(f"  {_describe(step)}")


def _describe(step) -> str:
    if step.func.__name__ == "main":
        return "irnext " + shlex.join(step.args[0])
    return f"{step.func.__name__}{tuple(str(a) for a in step.args)}"


def _report(committed: list[str], failed: dict[str, str]) -> int:
    for stage in committed:
        print(f"recorded in dvc.lock: {stage}")
    for stage, why in failed.items():
        print(f"NOT recorded (left stale): {stage}: {why}")
    return 1 if failed else 0
