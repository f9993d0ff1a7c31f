"""Which data a run trains on, recorded in its resumable checkpoints and checked on resuming:
a run resumed on another folder, or on the same folder after its files changed, is not the
run it continues.

The identity is the dataset's resolved root, its split and a sha256 over its file list (each
pair's name, input and target paths relative to the root, and their sizes in bytes), plus the
bytes of a `manifest.json` at the root where there is one (`irnext data synth` writes it).
Sizes rather than every image's bytes: hashing a 100 GB dataset on each start would take
minutes, and a changed, added or removed file almost always changes the list or a size.
"""

from __future__ import annotations

import hashlib
import warnings
from pathlib import Path
from typing import Any

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
