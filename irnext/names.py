"""Names read from files and configs that become parts of paths, checked before they do.

A model name stored in a checkpoint, a study or task name in a result file, a dataset key in a
config: each is data someone else may have written. Before such a name is joined to a folder it
passes `check_name` (a fixed character set, no separator, not `.` or `..`, bounded length), and
an output path built from several parts passes `check_under` (it resolves inside the folder it
is meant for), so no crafted value writes outside the suite's folders.
"""

from __future__ import annotations

import re
from pathlib import Path

from irnext.errors import InputError

MAX_NAME_LENGTH = 128  # far below every file system's 255-byte limit, with room for suffixes
# Letters, digits and . _ + - ( ) and the space: every model, dataset, task and study name of
# the suite, and file names such as `irnext-official (GoPro.pth)`; never a separator or NUL.
_ALLOWED = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+() -]*")
ALLOWED_FORM = (
    f"1 to {MAX_NAME_LENGTH} characters from letters, digits and . _ + - ( ) space, "
    "starting with a letter or digit, no '..'"
)


class UnsafeNameError(InputError):
    """A name that would become part of a path is not of the allowed form."""


def check_name(value: object, *, what: str, source: str | Path) -> str:
    """`value` itself when it is a safe path component; otherwise a `UnsafeNameError` naming the
    value, `what` it is (e.g. 'model_name') and the `source` it was read from."""
    if (
        not isinstance(value, str)
        or len(value) > MAX_NAME_LENGTH
        or not _ALLOWED.fullmatch(value)
        or ".." in value
    ):
        raise UnsafeNameError(
            f"{source}: {what} = {value!r:.200} cannot be part of a file name; "
            f"expected {ALLOWED_FORM}"
        )
    return value


def check_under(path: str | Path, root: str | Path, *, what: str) -> Path:
    """`path` when it resolves inside `root` (links and '..' followed); otherwise a
    `UnsafeNameError` naming both, so no output meant for `root` lands elsewhere."""
    resolved, base = Path(path).resolve(), Path(root).resolve()
    if not resolved.is_relative_to(base):
        raise UnsafeNameError(
            f"{what} {path} resolves to {resolved}, outside the folder it belongs in ({base})"
        )
    return Path(path)
