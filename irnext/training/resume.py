"""What a resumed run must share with the run it continues: the model, its keywords, the
recipe, and the data. `resumed_run` reads a step checkpoint and checks them all.

Which data a run trains on is recorded in its resumable checkpoints: a run resumed on another
folder, or on the same folder after its files changed, is not the run it continues.

The identity is the dataset's resolved root, its split and a sha256 over its file list (each
pair's name, input and target paths relative to the root, and their sizes in bytes), plus the
bytes of a `manifest.json` at the root where there is one (`irnext data synth` writes it).
Sizes rather than every image's bytes: hashing a 100 GB dataset on each start would take
minutes, and a changed, added or removed file almost always changes the list or a size.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from pathlib import Path
from typing import Any

import torch
from torch import nn

from irnext.errors import InputError


def data_identity(dataset: Any) -> dict[str, Any]:
    """{'root', 'split', 'pairs', 'files_sha256'} of a `PairedImageDataset`."""
    root = Path(dataset.root).resolve()
    digest = hashlib.sha256()
    for pair in sorted(dataset.pairs, key=lambda pair: pair.name):
        digest.update(pair.name.encode() + b"\0")
        for path in (pair.input_path, pair.target_path):
            path = Path(path).resolve()
            relative = path.relative_to(root) if path.is_relative_to(root) else path
            digest.update(f"{relative.as_posix()}\0{path.stat().st_size}\0".encode())
    manifest = root / "manifest.json"
    if manifest.is_file():
        digest.update(manifest.read_bytes())
    return {
        "root": str(root),
        "split": dataset.split,
        "pairs": len(dataset.pairs),
        "files_sha256": digest.hexdigest(),
    }


def check_same_data(path: Path, saved: dict[str, Any] | None, current: dict[str, Any]) -> None:
    """Refuse to resume checkpoint `path` on other data, naming both; a checkpoint written
    before the identity was recorded resumes with a warning naming it."""
    if saved is None:
        warnings.warn(
            f"{path}: a checkpoint without a record of its training data (written before "
            "irnext-bench recorded it): resuming on --root "
            f"{current['root']} cannot be checked against the data it was trained on",
            UserWarning,
            stacklevel=2,
        )
        return
    if saved.get("root") != current["root"]:
        raise InputError(
            f"{path}: was trained on the dataset at {saved.get('root')}; this run's --root is "
            f"{current['root']} (resume on the same folder, or start a new run)"
        )
    if saved.get("files_sha256") != current["files_sha256"]:
        raise InputError(
            f"{path}: was trained on {saved.get('pairs')} pairs with file list sha256 "
            f"{saved.get('files_sha256')}; {current['root']} now holds {current['pairs']} "
            f"pairs with file list sha256 {current['files_sha256']}: its files changed since"
        )


def resumed_run(path: Path, training: dict, data: dict, name: str, overrides: dict):
    """The model and resume state of a checkpoint written with --save-every(-steps), checked
    to come from the same model, recipe and data: resuming under another is not the same run."""
    from irnext.checkpoint import load_checkpoint

    model, info = load_checkpoint(path)
    if "resume" not in info:
        raise InputError(f"{path}: holds no resume state (write it with --save-every)")
    check_same_data(path, info["resume"].get("data"), data)
    saved = info.get("training") or {}
    differs = sorted(key for key in ("dataset", "split") if saved.get(key) != training[key])
    differs += sorted(
        f"config.{key}"
        for key, value in training["config"].items()
        if key != "num_workers" and saved.get("config", {}).get(key) != value
    )
    if info.get("model_name") != name:
        differs.insert(0, f"model ({info.get('model_name')})")
    if differs:
        raise InputError(f"{path}: was trained with different {', '.join(differs)}")
    _same_model_kwargs(path, model, _meta_model(name, overrides))
    return model.train(), info["resume"]


def _meta_model(name: str, overrides: dict) -> nn.Module:
    from irnext.models.registry import create_model

    with torch.device("meta"):  # the configuration these overrides give, without weights
        return create_model(name, **overrides)


def _resolved(model: nn.Module) -> dict:
    """Every keyword of the model, defaults included where the architecture records them."""
    config = getattr(model, "config", None)
    return dict(config) if isinstance(config, dict) else dict(model.irnext_spec["kwargs"])


def _same_model_kwargs(path: Path, saved: nn.Module, wanted: nn.Module) -> None:
    both = {"saved": _resolved(saved), "wanted": _resolved(wanted)}
    plain = json.loads(json.dumps(both, default=list))
    for key in sorted(set(plain["saved"]) | set(plain["wanted"])):
        mine, theirs = plain["wanted"].get(key), plain["saved"].get(key)
        if mine != theirs:
            raise InputError(
                f"{path}: was trained with --model-kwargs {key}={theirs!r}; this run asks for "
                f"{key}={mine!r}"
            )
