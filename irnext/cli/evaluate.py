"""`irnext evaluate`: score a model on a dataset split under a metric protocol.

Writes OUT/summary.json and OUT/per_image.csv (scores only: a re-run rewrites them byte for
byte) and OUT/run.json (seconds, images/s and the environment stamp).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from irnext.cli.params import parse_group_lists
from irnext.cli.progress import progress_counter
from irnext.errors import InputError
from irnext.io import check_writable, output_lock
from irnext.names import check_name, check_under
from irnext.precisions import BF16_TOLERANCE_DB, PRECISIONS


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "evaluate",
        help="score a model (or the identity) on a dataset split under a metric protocol",
        description=__doc__,
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--model", help="a named model (random init, seeded) or 'identity'")
    source.add_argument("--checkpoint", type=Path, help="a checkpoint written by this suite")
    source.add_argument("--official-irnext", type=Path, help="an official IRNeXt .pkl")
    source.add_argument(
        "--baseline-weights",
        type=Path,
        help="official weights of a baseline (.pth), detected by spandrel",
    )
    parser.add_argument(
        "--dataset", required=True, metavar="NAME", help="dataset name (see `irnext data list`)"
    )
    parser.add_argument("--root", required=True, type=Path, help="the dataset's folder")
    parser.add_argument("--split", help="dataset split (default: the dataset's test split)")
    parser.add_argument(
        "--protocol", help="metric protocol, e.g. basicsr_rgb (default: the dataset's own)"
    )
    parser.add_argument("--device", default="auto", help="auto (cuda if present), cpu, cuda:0")
    add_speed_flags(parser)
    parser.add_argument("--tile", type=int, help="restore in tiles of this side (large images)")
    parser.add_argument("--tile-overlap", type=int, default=32, help="pixels shared by tiles")
    parser.add_argument("--tlc", action="store_true", help="NAFNet test-time local converter")
    parser.add_argument(
        "--filter-dilations",
        nargs=3,
        type=int,
        metavar="D",
        help="--official-irnext of a ConvIR file: its branches' dilations (default 7 9 11; "
        "the deraining release 3 7 9)",
    )
    parser.add_argument("--seed", type=int, default=0, help="initialisation seed for --model")
    parser.add_argument(
        "--group-list",
        action="append",
        default=[],
        metavar="GROUP=FILE",
        help="DPDD scene lists, e.g. indoor=indoor_labels.npy (repeat)",
    )
    parser.add_argument(
        "--out", type=Path, help="output folder (default results/evaluate/MODEL-DATASET-SPLIT)"
    )
    parser.add_argument("--save-images", action="store_true", help="also write restored PNGs")
    parser.set_defaults(func=_run)


def add_speed_flags(parser: argparse.ArgumentParser) -> None:
    """How fast, not what, is computed: batching, decoding processes, precision, layout."""
    parser.add_argument(
        "--batch-size", type=int, default=1, help="equal-size images restored and scored together"
    )
    parser.add_argument(
        "--workers",
        type=int,
        help="image-decoding processes (default: min(4, CPUs - 1) on CUDA, 0 on CPU: "
        "decoded in this process)",
    )
    parser.add_argument(
        "--dtype",
        choices=PRECISIONS,
        default="fp32",
        help="bf16: forward pass under autocast, pixel layers and norm inputs in fp32 "
        "(docs/protocols.md, Precision)",
    )
    parser.add_argument(
        "--bf16-tolerance-db",
        type=float,
        default=BF16_TOLERANCE_DB,
        help="with --dtype bf16, stop unless the first images score within this many dB of "
        "fp32 (default: %(default)g)",
    )
    parser.add_argument(
        "--channels-last", action="store_true", help="NHWC memory layout for the network"
    )
    parser.add_argument(
        "--compile", action="store_true", help="torch.compile the network (slow first chunk)"
    )


def eval_options(args: argparse.Namespace):
    """The `EvalOptions` the parsed flags ask for (checked there, with named errors)."""
    from irnext.evaluation import EvalOptions

    return EvalOptions(
        device=args.device,
        batch_size=args.batch_size,
        tile=args.tile,
        tile_overlap=args.tile_overlap,
        num_workers=args.workers,
        dtype=args.dtype,
        bf16_tolerance_db=args.bf16_tolerance_db,
        channels_last=args.channels_last,
        compile=args.compile,
    )


def load_model(args: argparse.Namespace) -> tuple[Any, str, str | None, str | None]:
    """(model, name, weights hash or None for untrained/identity models, the dataset a suite
    checkpoint was trained on or None). Suite checkpoints are identified by the hash of their
    weights alone (`irnext.weights.weights_sha256`), other files by the file's sha256."""
    from irnext.evaluation import file_sha256
    from irnext.weights import weights_sha256

    if args.filter_dilations and not args.official_irnext:
        raise InputError("--filter-dilations: only with --official-irnext (a ConvIR release file)")
    if args.model:
        return _named_model(args)
    if args.checkpoint:
        from irnext.checkpoint import load_checkpoint

        model, info = load_checkpoint(args.checkpoint)
        name = info.get("model_name") or info.get("architecture")
        # the default output folder is named after it (`_default_out`)
        name = check_name(name, what="model_name", source=args.checkpoint)
        trained_on = (info.get("training") or {}).get("dataset")
        return model, name, weights_sha256(model.state_dict()), trained_on
    if args.official_irnext:
        from irnext.models.official import load_official_checkpoint

        model = load_official_checkpoint(
            args.official_irnext, filter_dilations=args.filter_dilations
        )
        return (
            model,
            # IRNeXt or ConvIR: the release the file's keys belong to, never mislabelled
            f"{model.irnext_spec['architecture'].lower()}-official ({args.official_irnext.name})",
            file_sha256(args.official_irnext),
            None,
        )
    from irnext.models.baselines import load_baseline_weights

    model = load_baseline_weights(args.baseline_weights, tlc=args.tlc)
    name = model.irnext_spec["name"] + ("+tlc" if args.tlc else "")
    return model, name, file_sha256(args.baseline_weights), None


def _named_model(args: argparse.Namespace) -> tuple[Any, str, None, None]:
    import torch

    from irnext.evaluation import IdentityModel
    from irnext.models.registry import create_model

    if args.model == "identity":
        return IdentityModel(), "identity", None, None
    torch.manual_seed(args.seed)
    overrides = {"tlc": True} if args.tlc else {}
    try:
        model = create_model(args.model, **overrides)
    except InputError as error:
        if not args.tlc:
            raise
        raise InputError(f"--tlc applies to NAFNet models, not '{args.model}'") from error
    print(f"note: '{args.model}' has untrained weights (seed {args.seed})", file=sys.stderr)
    return model, args.model + ("+tlc" if args.tlc else ""), None, None


def _run(args: argparse.Namespace) -> int:
    from irnext.data import open_dataset
    from irnext.data.layouts import TRAIN_TEST_OVERLAP
    from irnext.evaluation.records import claim_image_folder
    from irnext.weights import weights_sha256

    speed = eval_options(args)  # bad flags are named before any loading
    options = {"group_lists": parse_group_lists(args.group_list)} if args.group_list else {}
    dataset = open_dataset(args.dataset, args.root, split=args.split, **options)
    model, name, sha, trained_on = load_model(args)
    overlap = TRAIN_TEST_OVERLAP.get((trained_on, args.dataset))
    if dataset.info.caveat:
        print(f"caveat: {args.dataset}: {dataset.info.caveat}", file=sys.stderr)
    out = args.out or _default_out(name, args.dataset, dataset.split)
    with output_lock(out):  # a second run on this folder stops here, before any scoring
        for file in ("per_image.csv", "summary.json"):
            check_writable(out / file)
        if args.save_images:
            weights = weights_sha256(model.state_dict())  # untrained models differ by seed
            source = {"model": name, "weights_sha256": weights, "dataset": args.dataset}
            claim_image_folder(out / "images", {**source, "split": dataset.split})
        return _score(args, speed, dataset, model, name, sha, trained_on, overlap, out)


def _default_out(name: str, dataset: str, split: str) -> Path:
    """results/evaluate/MODEL-DATASET-SPLIT, checked to stay inside results/evaluate."""
    root = Path("results/evaluate")
    where = "the default --out (or give --out FOLDER)"
    folder = check_name(f"{name}-{dataset}-{split}", what="folder name", source=where)
    return check_under(root / folder, root, what="the default --out folder")


def _score(args, speed, dataset, model, name, sha, trained_on, overlap, out: Path) -> int:
    from irnext.evaluation import evaluate, write_evaluation

    with progress_counter(len(dataset), f"{name} on {args.dataset}") as progress:
        rows, summary = evaluate(
            model,
            dataset,
            protocol=args.protocol,
            options=speed,
            save_dir=out / "images" if args.save_images else None,
            model_name=name,
            weights_sha256=sha,
            progress=progress,
        )
    summary["root"] = str(args.root)  # as given: no absolute path of this machine
    summary["trained_on"] = trained_on
    summary["train_test_overlap"] = overlap  # this checkpoint was trained on the leaking set
    paths = write_evaluation(out, rows, summary)
    means = ", ".join(f"{m} {summary['means'][m]:.4f}" for m in summary["metrics"])
    print(
        f"{name} on {args.dataset}/{dataset.split} ({summary['count']} images, "
        f"{summary['protocol']}): {means}; {summary['images_per_second']:.2f} images/s"
    )
    print(f"wrote {', '.join(str(path) for path in paths.values())}")
    return 0
