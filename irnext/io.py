"""Writing files so that a crash, a full disk or a second run never leaves a partial one.

Every file the suite writes goes through `atomic_write_*`: the bytes go to a temporary file in
the destination's folder, are flushed and fsync'ed, and the temporary file is renamed over the
destination (`os.replace` is atomic on POSIX within one file system); the folder is then
fsync'ed so the rename itself survives a power cut. A reader therefore sees the old file or the
new one, never a mixture. On any `OSError` the temporary file is removed, the previous file is
left untouched and an `OutputError` names the path and the cause in words.

`check_writable` tests an output location before any work is done, and `output_lock` keeps two
runs from writing one output folder at once. `read_yaml_mapping` reads the suite's YAML inputs
(params, datasets, studies, published figures) with the same named errors everywhere, aliases
bounded (`irnext.limits`).
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO, Any

from irnext.errors import InputError
from irnext.limits import check_yaml_expansion

LOCK_NAME = ".irnext.lock"

# errno -> words a user acts on (the numbers differ across systems, the names do not)
_CAUSES = {
    errno.ENOSPC: "the disk is full (ENOSPC)",
    errno.EDQUOT: "the disk quota is exceeded (EDQUOT)",
    errno.EFBIG: "the file exceeds the file-size limit (EFBIG; see `ulimit -f`)",
    errno.EACCES: "permission denied (EACCES)",
    errno.EPERM: "operation not permitted (EPERM; an immutable file or folder?)",
    errno.EROFS: "the file system is read-only (EROFS)",
    errno.ENOTDIR: "a parent of the path is a file, not a folder (ENOTDIR)",
    errno.EISDIR: "the path is a folder, not a file (EISDIR)",
    errno.ENOENT: "a folder of the path does not exist (ENOENT)",
    errno.ENAMETOOLONG: "the name is too long (ENAMETOOLONG)",
    errno.EIO: "an input/output error of the device (EIO)",
}


class OutputError(InputError):
    """An output path cannot be written; the message names the path and the cause."""


def describe_os_error(error: OSError) -> str:
    """The cause of an `OSError` in words, e.g. 'the disk is full (ENOSPC)'."""
    if error.errno in _CAUSES:
        return _CAUSES[error.errno]
    name = errno.errorcode.get(error.errno or -1, "unknown error")
    return f"{error.strerror or error} ({name})"


def output_error(path: str | Path, error: OSError, action: str = "cannot write") -> OutputError:
    return OutputError(f"{path}: {action}: {describe_os_error(error)}")


def refuse_link(path: Path) -> None:
    """An `OutputError` when `path` is a symbolic link: a link planted in an output folder
    would redirect the write (or the lock) to a file the suite never meant to touch."""
    if path.is_symlink():
        raise OutputError(
            f"{path}: is a symbolic link (to {os.readlink(path)}); irnext does not write "
            "through links it did not create; remove the link or choose another path"
        )


def _fsync_folder(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def atomic_write(path: str | Path, write: Callable[[IO[bytes]], Any]) -> Path:
    """Call `write(handle)` on a temporary file next to `path`, then rename it over `path`.

    The new file gets the permissions a plain `open(path, 'w')` would give (umask applied),
    not the 0600 of `tempfile`. Parent folders are created.
    """
    path = Path(path)
    refuse_link(path)
    temporary = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(
            prefix=f".{path.name}.", suffix=".tmp", dir=path.parent
        )
        with os.fdopen(descriptor, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)
        os.replace(temporary, path)
        temporary = None
        _fsync_folder(path.parent)
    except OSError as error:
        raise output_error(path, error) from error
    finally:
        if temporary is not None:
            with suppress(OSError):  # the original error is the one to report
                os.unlink(temporary)
    return path


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    return atomic_write(path, lambda handle: handle.write(data))


def atomic_write_text(path: str | Path, text: str, *, encoding: str = "utf-8") -> Path:
    return atomic_write_bytes(path, text.encode(encoding))


def atomic_write_json(path: str | Path, value: Any, *, indent: int | None = 2) -> Path:
    """JSON with a final newline; NaN/inf are refused (JSON has none), not written as NaN."""
    return atomic_write_text(path, json.dumps(value, indent=indent, allow_nan=False) + "\n")


def atomic_torch_save(obj: Any, path: str | Path) -> Path:
    import torch

    def write(handle: IO[bytes]) -> None:
        recorder = _ErrorRecorder(handle)
        try:
            torch.save(obj, recorder)
        except RuntimeError:
            # torch's zip writer turns a failed write into "unexpected pos ..."; the errno
            # (ENOSPC, EFBIG) is what the user needs, so the recorded OSError is raised.
            if recorder.error is not None:
                raise recorder.error from None
            raise

    return atomic_write(path, write)


class _ErrorRecorder:
    """A write-only file wrapper that remembers the first OSError of `write`."""

    def __init__(self, handle: IO[bytes]) -> None:
        self.handle, self.error = handle, None

    def write(self, data: bytes) -> int:
        try:
            return self.handle.write(data)
        except OSError as error:
            self.error = self.error or error
            raise

    def flush(self) -> None:
        self.handle.flush()


def atomic_save_safetensors(
    tensors: dict[str, Any], path: str | Path, *, metadata: dict[str, str] | None = None
) -> Path:
    from safetensors.torch import save

    return atomic_write_bytes(path, save(tensors, metadata=metadata))


def check_writable(path: str | Path) -> Path:
    """Fail now, with the cause in words, if a file cannot be written at `path` later.

    Missing parent folders are created; an existing file must be writable and not a folder.
    The test writes (and removes) a small temporary file in the folder, because permission
    bits alone say nothing for root, read-only mounts or immutable folders.
    """
    path = Path(path)
    refuse_link(path)
    if path.is_dir():
        raise OutputError(f"{path}: cannot write: {_CAUSES[errno.EISDIR]}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            os.close(os.open(path, os.O_WRONLY | os.O_APPEND | os.O_NOFOLLOW))
        descriptor, probe = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        os.close(descriptor)
        os.unlink(probe)
    except FileExistsError as error:  # mkdir over a file that is in the way
        raise OutputError(f"{path}: cannot write: {_CAUSES[errno.ENOTDIR]}") from error
    except OSError as error:
        raise output_error(path, error) from error
    return path


def check_writable_folder(folder: str | Path) -> Path:
    """Create `folder` if needed and check a file can be written in it."""
    folder = Path(folder)
    check_writable(folder / LOCK_NAME)
    return folder


@contextmanager
def output_lock(folder: str | Path) -> Iterator[Path]:
    """Hold an advisory lock on `folder` (FOLDER/.irnext.lock) for the duration of a run.

    A second run on the same folder stops at once with an `OutputError` naming the folder and
    the holder's process id. The lock is `fcntl.flock`, which the kernel releases when its
    holder dies however it dies, so the lock of a killed run is simply taken over; the file
    itself is removed when the run ends normally.
    """
    folder = check_writable_folder(folder)
    path = folder / LOCK_NAME
    descriptor = _acquire(path, folder)
    try:
        os.ftruncate(descriptor, 0)
        os.pwrite(descriptor, f"{os.getpid()}\n".encode(), 0)
        yield path
    finally:
        with suppress(OSError):  # unlink first, then release: a waiter re-checks the inode
            os.unlink(path)
        os.close(descriptor)


def _acquire(path: Path, folder: Path) -> int:
    while True:
        try:
            # O_NOFOLLOW: a link planted as the lock file is refused, never truncated through
            descriptor = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
        except OSError as error:
            if error.errno == errno.ELOOP:
                refuse_link(path)
            raise output_error(path, error, "cannot create the lock file") from error
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(descriptor, 32, 0).decode(errors="replace").strip() or "unknown"
            os.close(descriptor)
            raise OutputError(
                f"{folder}: another irnext run (process {holder}) is writing this output "
                f"folder; wait for it to finish or choose another output folder "
                f"(lock: {path})"
            ) from None
        # The holder may have removed the file between our open and our lock: then we hold a
        # lock on a deleted inode, which protects nothing; try again on the current file.
        try:
            same = os.path.samestat(os.fstat(descriptor), os.stat(path))
        except FileNotFoundError:
            same = False
        if same:
            return descriptor
        os.close(descriptor)


def read_yaml_mapping(path: str | Path, *, expected: str) -> dict[str, Any]:
    """The mapping a YAML input file holds. A missing file, invalid YAML or a top level that is
    not a mapping is an `InputError` naming the file and `expected`, the form the caller reads."""
    import yaml  # imported here: `irnext --help` and the writers above do not need it

    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: file not found (expected {expected})")
    loader = yaml.SafeLoader(path.read_text())
    try:
        node = loader.get_single_node()
        if node is not None:
            check_yaml_expansion(node, path)
        data = None if node is None else loader.construct_document(node)
    except yaml.YAMLError as error:
        raise InputError(f"{path}: not valid YAML ({error})") from None
    except RecursionError:
        raise InputError(f"{path}: YAML nested too deeply; expected plain data") from None
    finally:
        loader.dispose()
    if not isinstance(data, dict):
        raise InputError(f"{path}: expected a YAML mapping, {expected}; got {type(data).__name__}")
    return data
