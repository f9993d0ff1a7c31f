"""Progress of long commands on stderr: a tqdm bar on a terminal, periodic lines otherwise.

Output piped to a file or a CI log gets one line every `every_s` seconds (and a last one), not
a bar's carriage returns; stdout stays free for the command's results.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable, Iterator


@contextlib.contextmanager
def progress_counter(
    total: int, what: str, *, unit: str = "images", every_s: float = 10.0, stream=None
) -> Iterator[Callable[[int], None]]:
    """A callable taking the number of items just finished, for `total` items of `what`."""
    stream = stream if stream is not None else sys.stderr
    if stream.isatty():
        from tqdm import tqdm

        with tqdm(total=total, desc=what, unit=unit.rstrip("s"), file=stream) as bar:
            yield bar.update
        return
    done, started, last = 0, time.monotonic(), [time.monotonic()]

    def update(count: int) -> None:
        nonlocal done
        done += count
        now = time.monotonic()
        if now - last[0] >= every_s or done == total:
            last[0] = now
            rate = done / max(now - started, 1e-9)
            print(f"{what}: {done}/{total} {unit} ({rate:.2f}/s)", file=stream, flush=True)

    yield update
