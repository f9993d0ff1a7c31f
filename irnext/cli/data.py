"""`irnext data`: list the dataset layouts, inspect a user's folder, build the synthetic benchmark.

`inspect` takes ROOT on the command line or, when omitted, from `datasets.yaml` (`datasets:
{name: root}`); the library below takes plain paths.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from irnext.cli.params import parse_group_lists
from irnext.errors import InputError


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "data", help="dataset layouts, inspection, synthetic benchmark", description=__doc__
    )
    commands = parser.add_subparsers(dest="data_command", required=True, metavar="ACTION")

    listing = commands.add_parser("list", help="every named dataset layout")
    listing.add_argument("--json", action="store_true", help="print JSON instead of a table")
    listing.set_defaults(func=run_list)

    inspect = commands.add_parser("inspect", help="check a dataset folder and summarise it")
    inspect.add_argument("name", help="dataset name (see `irnext data list`)")
    inspect.add_argument(
        "root", nargs="?", help="dataset root (default: its entry in datasets.yaml)"
    )
    inspect.add_argument("--split", help="split to inspect (default: the dataset's test split)")
    inspect.add_argument(
        "--datasets", default="datasets.yaml", help="file of dataset roots (datasets: NAME: ROOT)"
    )
    inspect.add_argument(
        "--group-list",
        action="append",
        default=[],
        metavar="GROUP=FILE",
        help="DPDD group list, e.g. indoor=indoor_labels.npy (repeat for each group)",
    )
    inspect.set_defaults(func=run_inspect)

    synth = commands.add_parser("synth", help="build one task of the offline benchmark")
    synth.add_argument("--task", required=True, help="haze, motion-blur, defocus, rain or snow")
    synth.add_argument("--out", required=True, type=Path, help="output folder")
    synth.add_argument("--seed", type=int, default=0, help="seed of the photographs' crops")
    synth.add_argument("--train-count", type=int, default=32, help="training pairs")
    synth.add_argument("--test-count", type=int, default=24, help="test pairs")
    synth.add_argument(
        "--val-count", type=int, default=0, help="validation pairs (of the training photographs)"
    )
    synth.add_argument("--size", type=int, default=256, help="square image side in pixels")
    synth.add_argument(
        "--contact-sheet", type=Path, help="contact sheet PNG (default: OUT/contact_sheet.png)"
    )
    synth.set_defaults(func=run_synth)


def run_list(args: argparse.Namespace) -> int:
    from irnext.data import dataset_info, list_datasets

    infos = [dataset_info(name) for name in list_datasets()]
    if args.json:
        rows = [
            {
                "name": i.name,
                "task": i.task,
                "splits": list(i.splits),
                "default_split": i.default_split,
                "protocol": i.protocol,
                "groups": list(i.groups),
                "caveat": i.caveat,
            }
            for i in infos
        ]
        print(json.dumps(rows, indent=1))
        return 0
    print(f"{'name':<18} {'task':<15} {'protocol':<17} splits")
    for info in infos:
        print(f"{info.name:<18} {info.task:<15} {info.protocol:<17} {', '.join(info.splits)}")
        if info.caveat:
            print(f"{'':<18} caveat: {info.caveat}")
    return 0


def run_inspect(args: argparse.Namespace) -> int:
    from irnext.data import inspect_dataset
    from irnext.pipeline.profile import dataset_root

    root = args.root
    if root is None:
        root = dataset_root(args.datasets, args.name)
        if root is None:
            raise InputError(
                f"{args.datasets}: datasets.{args.name} is null or absent; give the dataset's "
                "folder as ROOT or set it there"
            )
    options = {}
    if args.group_list:
        options["group_lists"] = parse_group_lists(args.group_list)
    report = inspect_dataset(args.name, root, split=args.split, **options)
    print(json.dumps(report, indent=1))
    return 0


def run_synth(args: argparse.Namespace) -> int:
    from irnext.data.synth import build_benchmark, contact_sheet

    manifest = build_benchmark(
        task=args.task,
        out=args.out,
        seed=args.seed,
        train_count=args.train_count,
        test_count=args.test_count,
        size_px=args.size,
        val_count=args.val_count,
    )
    sheet = contact_sheet(args.out, args.contact_sheet or args.out / "contact_sheet.png")
    summary = {
        "dataset": manifest["dataset"],
        "out": str(args.out),
        "train": args.train_count,
        "test": args.test_count,
        "val": args.val_count,
        "size_px": args.size,
        "contact_sheet": str(sheet),
    }
    print(json.dumps(summary, indent=1))
    return 0
