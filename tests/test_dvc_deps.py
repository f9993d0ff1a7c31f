"""dvc.yaml's code dependencies, derived from what each stage's command imports.

DVC re-runs a stage only when one of its `deps` changes. A module a stage runs but does not list
leaves a stale result that `dvc status` calls up to date, so each stage's `irnext ...` command is
followed here to the modules it can import:

- the command's sub-command names its module under `irnext.cli` (found by registering each
  module's parser); `irnext bench` runs further sub-commands in-process, and which ones is read
  from its `--dry-run` (the commands it prints), for the profile's first task, model and study;
- from there, every `import` and `from ... import` of an `irnext` module is followed with `ast`,
  inside functions too (the command line imports lazily), and so is every package a module lives
  in (its `__init__` runs first);
- a string constant naming an `irnext` module counts as an import (the model registry's
  catalogue, the lazy tables of `irnext.training` and `irnext`), but a package's lazy table
  (PEP 562) only for the names actually imported from the package.

A folder in `deps` covers every module under it. The set is an over-approximation (a lazy import
counts whether or not the branch holding it runs): a stage may re-run needlessly, never stay stale.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import functools
import importlib
import io
import re
from pathlib import Path

import pytest
import yaml

from irnext.cli import COMMANDS, main

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "irnext"


def module_path(name: str) -> Path | None:
    """The file of module `name` (a package's `__init__.py`), None if it is no irnext module."""
    if name != "irnext" and not name.startswith("irnext."):
        return None
    base = REPO.joinpath(*name.split("."))
    for path in (base / "__init__.py", base.with_suffix(".py")):
        if path.is_file():
            return path
    return None


def _lazy_table(tree: ast.Module) -> dict[str, str]:
    """A package `__init__`'s PEP 562 table: {exported name: irnext module defining it}."""
    pairs = [
        (key, value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Dict)
        for key, value in zip(node.keys, node.values)
    ]
    return {
        key.value: value.value
        for key, value in pairs
        if isinstance(key, ast.Constant) and _names_module(value)
    }


def _names_module(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and bool(module_path(node.value))
    )


@functools.cache
def _parsed(name: str) -> tuple[ast.Module, dict[str, str]]:
    path = module_path(name)
    tree = ast.parse(path.read_text(), filename=str(path))
    return tree, _lazy_table(tree) if path.name == "__init__.py" else {}


def _from_import(node: ast.ImportFrom, current: str) -> set[str]:
    base = node.module or ""
    if node.level:  # relative: resolved against the importing module's package
        package = current.split(".")
        if module_path(current).name != "__init__.py":
            package = package[:-1]
        package = package[: len(package) - node.level + 1]
        base = ".".join(package + ([node.module] if node.module else []))
    found = {base} if module_path(base) else set()
    if found:
        lazy = _parsed(base)[1]
        for alias in node.names:
            submodule = f"{base}.{alias.name}"
            found.add(submodule if module_path(submodule) else lazy.get(alias.name, base))
    return found


def direct_imports(name: str) -> set[str]:
    """The irnext modules `name` names: its imports anywhere in the file, module strings
    outside a package's lazy table, and its own parent packages."""
    tree, lazy = _parsed(name)
    found = {".".join(name.split(".")[:i]) for i in range(1, name.count(".") + 1)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if module_path(alias.name)}
        elif isinstance(node, ast.ImportFrom):
            found |= _from_import(node, name)
        elif _names_module(node) and node.value not in lazy.values():
            found.add(node.value)
    return found - {name}


def closure(roots: set[str]) -> set[str]:
    seen, todo = set(), list(roots)
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo += direct_imports(name)
    return seen


@functools.cache
def command_modules() -> dict[str, str]:
    """Sub-command -> the `irnext.cli` module that registers it (`visual` is collect's)."""
    owners = {}
    for name in COMMANDS:
        subparsers = argparse.ArgumentParser().add_subparsers()
        importlib.import_module(f"irnext.cli.{name}").add_parser(subparsers)
        owners.update({command: f"irnext.cli.{name}" for command in subparsers.choices})
    return owners


def commands_run(argv: list[str], params: Path, datasets: Path) -> list[list[str]]:
    """`argv` and, for `irnext bench`, the commands its dry run prints (it runs them itself)."""
    if argv[0] != "bench":
        return [argv]
    printed = io.StringIO()
    extra = ["--params", str(params), "--datasets", str(datasets), "--dry-run"]
    with contextlib.redirect_stdout(printed):
        assert main([*argv, *extra]) == 0, printed.getvalue()
    lines = [line.split()[1:] for line in printed.getvalue().splitlines()]
    return [argv] + [words for words in lines if words and words[0] in command_modules()]


def needed_files(argv: list[str], params: Path, datasets: Path) -> set[Path]:
    roots = {"irnext.cli"} | {command_modules()[c[0]] for c in commands_run(argv, params, datasets)}
    return {module_path(name) for name in closure(roots)}


# --- the stages of dvc.yaml, instantiated with the first item of each loop -----------------


def _lookup(params: dict, dotted: str):
    value = params
    for part in dotted.split("."):
        value = value[part]
    return value


def _substitute(text: str, scope: dict) -> str:
    return re.sub(r"\$\{([^}]+)\}", lambda m: str(_lookup(scope, m.group(1).strip())), text)


def stage_instances(pipeline: dict, params: dict) -> dict[str, tuple[str, list[str]]]:
    """Stage name -> (its command, its deps) for the first item of its foreach or matrix."""
    found = {}
    for name, stage in pipeline["stages"].items():
        scope = dict(params)
        if "foreach" in stage:
            items = _lookup(params, stage["foreach"].strip("${} "))
            if not items:  # an empty loop in this profile: no stage to check here
                continue
            key = next(iter(items))
            scope.update(item=items[key] if isinstance(items, dict) else key, key=key)
            stage = stage["do"]
        elif "matrix" in stage:
            axes = {axis: _lookup(params, v.strip("${} ")) for axis, v in stage["matrix"].items()}
            scope["item"] = {axis: values[0] for axis, values in axes.items()}
        deps = [_substitute(str(dep), scope) for dep in stage.get("deps", [])]
        found[name] = (_substitute(stage["cmd"], scope), deps)
    return found


def covered(path: Path, deps: list[str]) -> bool:
    relative = path.relative_to(REPO)
    return any(relative == Path(dep) or Path(dep) in relative.parents for dep in deps)


def _paper_datasets(params: dict, folder: Path) -> Path:
    """A datasets.yaml giving every dataset the paper profile names a (dummy) root."""
    names = {
        name
        for spec in params["paper"].values()
        for name in [spec.get("train"), *spec["test"]]  # a task scored only has no train set
        if name
    }
    datasets = folder / "datasets.yaml"
    datasets.write_text(yaml.safe_dump({"datasets": {name: str(folder) for name in names}}))
    return datasets


PIPELINE = yaml.safe_load((REPO / "dvc.yaml").read_text())


def _cases() -> list[tuple[str, str]]:
    """(profile, stage): every stage under the default profile, `pretrained` under paper's."""
    cases = []
    for profile in ("default", "paper"):
        params = yaml.safe_load((REPO / "profiles" / f"{profile}.yaml").read_text())
        for stage in stage_instances(PIPELINE, params):
            if profile == "default" or stage == "pretrained":
                cases.append((profile, stage))
    return cases


@pytest.mark.parametrize(("profile", "stage"), _cases())
def test_every_module_a_stage_runs_is_in_its_deps(profile, stage, tmp_path, monkeypatch):
    # `irnext bench complexity --dry-run` still writes results/cost/: let it write in tmp_path.
    monkeypatch.chdir(tmp_path)
    source = REPO / "profiles" / f"{profile}.yaml"
    params = yaml.safe_load(source.read_text())
    # The profile beside the repository's ablations/ (its study names are checked against them).
    profile_file = REPO / "params.yaml" if profile == "default" else source
    if profile == "default":
        assert yaml.safe_load(profile_file.read_text())["profile"] == "default"
    cmd, deps = stage_instances(PIPELINE, params)[stage]
    argv = cmd.split()
    assert argv[0] == "irnext", f"stage {stage}: {cmd}"
    datasets = _paper_datasets(params, tmp_path) if profile == "paper" else REPO / "datasets.yaml"
    needed = needed_files(argv[1:], profile_file, datasets)
    missing = sorted(str(p.relative_to(REPO)) for p in needed if not covered(p, deps))
    assert not missing, f"dvc.yaml stage '{stage}' runs modules its deps do not list: {missing}"


def test_every_code_dependency_exists():
    """A dep naming a moved or deleted module would make `dvc repro` fail, not re-run."""
    absent = {
        dep
        for stage in PIPELINE["stages"].values()
        for dep in stage.get("deps", stage.get("do", {}).get("deps", []))
        if dep.startswith("irnext/") and not (REPO / dep).exists()
    }
    assert not absent
