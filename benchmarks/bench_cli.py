"""Wall time and peak memory of `irnext` commands, repeated and interleaved.

    python benchmarks/bench_cli.py                               # models, complexity restormer
    python benchmarks/bench_cli.py --repeats 7 --code . --code ../other-checkout

Each repeat runs every command once under every `--code` folder (put first on PYTHONPATH, so
two versions of the package are compared on the same machine in the same minutes); the median
and range over the repeats are printed, with the load average before and after: on a shared
machine the spread is part of the result.
"""

from __future__ import annotations

import argparse
import os
import shlex
import statistics
import subprocess
import sys
import time
from pathlib import Path

COMMANDS = ("irnext models", "irnext complexity --model restormer")


def run_once(command: str, code: Path) -> tuple[float, float]:
    """Seconds and peak resident memory (MiB) of one run of `command` with `code` first."""
    env = {**os.environ, "PYTHONPATH": str(code.resolve())}
    start = time.perf_counter()
    child = subprocess.Popen(
        shlex.split(command), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    _, status, usage = os.wait4(child.pid, 0)  # this child's own rusage, not all children's
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status):
        raise SystemExit(f"{command} (PYTHONPATH={code}) failed")
    return seconds, usage.ru_maxrss / 1024  # Linux: ru_maxrss in KiB


def _spread(values: list[float]) -> str:
    return f"{statistics.median(values):8.2f}  [{min(values):.2f} .. {max(values):.2f}]"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--code", type=Path, action="append", help="package folder (default .)")
    parser.add_argument("commands", nargs="*", default=list(COMMANDS))
    args = parser.parse_args(argv)
    codes = args.code or [Path(".")]
    times = {(c, k): [] for c in args.commands for k in codes}
    memory = {key: [] for key in times}
    print(f"load average before: {os.getloadavg()}, {os.cpu_count()} CPUs", flush=True)
    for _ in range(args.repeats):
        for command in args.commands:
            for code in codes:
                seconds, mib = run_once(command, code)
                times[command, code].append(seconds)
                memory[command, code].append(mib)
    print(f"load average after: {os.getloadavg()}; median [min .. max] of {args.repeats}")
    for (command, code), seconds in times.items():
        print(f"{command}  (code: {code})")
        print(f"  wall s    {_spread(seconds)}")
        print(f"  peak MiB  {_spread(memory[command, code])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
