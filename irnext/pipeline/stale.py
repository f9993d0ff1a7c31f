"""What DVC says about the pipeline: the stale stages a launch runs, and recording them.

DVC stays the record: the launcher asks it which `cell@...` and `ablate@...` stages are stale
(`dvc status`), and once their jobs have finished cleanly it records exactly those stages in
dvc.lock (`dvc commit --force` of their names), so the next `dvc repro` runs only what lies
downstream of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from irnext.errors import InputError

LAUNCHED = ("cell", "baseline", "ablate")  # the expensive stage groups of dvc.yaml, one job each


@dataclass(frozen=True)
class Stage:
    """One stage of dvc.yaml as DVC resolved it (`cell@haze-irnext-mini-0`)."""

    name: str
    cmd: str
    deps: tuple[str, ...]
    outs: tuple[str, ...]
    fingerprint: str  # of its dependencies' contents and params, as DVC hashes them

    @property
    def group(self) -> str:
        return self.name.split("@", 1)[0]


def _stage(stage) -> Stage:
    cmd = stage.cmd if isinstance(stage.cmd, str) else " && ".join(stage.cmd)
    return Stage(
        name=stage.name,  # `addressing` would be relative to the working directory
        cmd=cmd,
        deps=tuple(str(dep.def_path) for dep in stage.deps),
        outs=tuple(str(out.def_path) for out in stage.outs),
        fingerprint=_fingerprint(stage),
    )


def _fingerprint(stage) -> str:
    import hashlib
    import json

    # params hash to their values (a mapping): compared by value, as DVC does, not by order
    hashes = {str(d.def_path): d.get_hash().value if d.exists else None for d in stage.deps}
    text = json.dumps(hashes, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def stale_stages(root: Path, groups: tuple[str, ...] = LAUNCHED) -> list[Stage]:
    """The stages of `groups` that `dvc status` reports changed, in dvc.yaml's order.

    Raises InputError when a stale stage outside `groups` (e.g. `synth@haze`) writes something
    a launched stage reads: its cells would train on the old data; run `dvc repro` of it first.
    """
    from dvc.repo import Repo

    with Repo(str(root)) as repo:
        changed = set(repo.status())
        stages = [_stage(s) for s in repo.index.stages if s.addressing in changed]
    launched = [s for s in stages if s.group in groups]
    upstream = [(out, s.name) for s in stages if s.group not in groups for out in s.outs]
    for stage in launched:
        blocking = sorted({name for out, name in upstream for d in stage.deps if _within(d, out)})
        if blocking:
            raise InputError(
                f"{stage.name} reads the outputs of stale stage(s) {', '.join(blocking)}: "
                f"run `dvc repro {' '.join(blocking)}` first"
            )
    return launched


def fingerprints(root: Path, names: list[str]) -> dict[str, str]:
    """The current fingerprint of each stage in `names` (absent: no longer in dvc.yaml)."""
    from dvc.repo import Repo

    with Repo(str(root)) as repo:
        return {s.name: _fingerprint(s) for s in repo.index.stages if s.name in names}


def _within(dep: str, out: str) -> bool:
    """Whether reading `dep` reads (part of) `out`: the same path, or one inside the other."""
    return dep == out or dep.startswith(out + "/") or out.startswith(dep + "/")


def commit_stages(root: Path, names: list[str]) -> None:
    """Record `names` (stages whose outputs were checked) in dvc.lock, without prompting."""
    from dvc.repo import Repo

    if not names:
        return
    with Repo(str(root)) as repo:
        for name in names:
            repo.commit(target=f"{Path(root) / 'dvc.yaml'}:{name}", force=True)
