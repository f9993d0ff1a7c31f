"""Was the machine busy while we timed? The load around a measurement, and the verdict on it.

A timing taken while other processes compete for the cores is not the model's latency. Around
each measurement `LoadProbe` records the 1-minute load average before and after and, on Linux,
the CPU time that *other* processes used during it (all cores' busy time in /proc/stat minus
this process's own CPU time), in cores; the machine counts as busy when the others used more
than the cores the measurement leaves free (or, without /proc/stat, when the load average
before the runs exceeds them). `verdict` flags a record whose spread or load says the
machine was busy, with the reasons, so that a report shows it as flagged instead of a result.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

# A spread above this fraction of the median says the runs did not see the same machine.
MAX_IQR_FRACTION = 0.25
# Other processes may use this much of one core beyond the cores the measurement leaves free.
BUSY_MARGIN_CORES = 0.25

_PROC_STAT = Path("/proc/stat")


def _cpu_jiffies() -> tuple[int, int] | None:
    """(busy, total) jiffies of all cores since boot, or None off Linux."""
    try:
        fields = _PROC_STAT.read_text().splitlines()[0].split()[1:]
    except OSError:
        return None
    values = [int(v) for v in fields[:8]]  # user nice system idle iowait irq softirq steal
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


def _own_cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system


class LoadProbe:
    """`with LoadProbe(threads) as probe: ...` then `probe.record()`."""

    def __init__(self, threads: int) -> None:
        self.threads = threads
        self.cpu_count = os.cpu_count() or 1

    def __enter__(self) -> LoadProbe:
        self.load_before = os.getloadavg()[0]
        self.jiffies_before = _cpu_jiffies()
        self.own_before = _own_cpu_seconds()
        self.wall_before = time.monotonic()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.monotonic() - self.wall_before
        self.own = _own_cpu_seconds() - self.own_before
        self.jiffies_after = _cpu_jiffies()
        self.load_after = os.getloadavg()[0]

    def others_busy_cores(self) -> float | None:
        """Cores kept busy by other processes during the measurement (None off Linux)."""
        if self.jiffies_before is None or self.jiffies_after is None or self.wall <= 0:
            return None
        busy = self.jiffies_after[0] - self.jiffies_before[0]
        total = self.jiffies_after[1] - self.jiffies_before[1]
        if total <= 0:
            return None
        all_busy_cores = self.cpu_count * busy / total
        return max(0.0, all_busy_cores - self.own / self.wall)

    def record(self) -> dict[str, Any]:
        free = self.cpu_count - self.threads  # cores the measurement leaves to everything else
        others = self.others_busy_cores()
        reasons = []
        # The load average is a 1-minute mean that still holds this process's own warm-up
        # and the pipeline's previous stage; it judges only where /proc/stat is unavailable.
        if others is None and self.load_before > free:
            reasons.append(
                f"load average {self.load_before:.2f} before the runs exceeds the {free} "
                f"core(s) not used by the measurement ({self.threads} of {self.cpu_count})"
            )
        if others is not None and others > free + BUSY_MARGIN_CORES:
            reasons.append(
                f"other processes kept {others:.2f} core(s) busy during the runs; {free} free"
            )
        return {
            "loadavg_1m_before": round(self.load_before, 2),
            "loadavg_1m_after": round(self.load_after, 2),
            "cpu_count": self.cpu_count,
            "threads": self.threads,
            "others_busy_cores": None if others is None else round(others, 3),
            "busy": bool(reasons),
            "reason": "; ".join(reasons) or None,
        }


def verdict(timing: dict[str, Any], load: dict[str, Any]) -> dict[str, Any]:
    """`flagged` and its reasons for a timing record (median, IQR) and its load record."""
    reasons = []
    median, iqr = timing["latency_ms_median"], timing["latency_ms_iqr"]
    if median > 0 and iqr > MAX_IQR_FRACTION * median:
        reasons.append(
            f"spread: IQR {iqr:.3g} ms is {iqr / median:.0%} of the median "
            f"(> {MAX_IQR_FRACTION:.0%})"
        )
    if load["busy"]:
        reasons.append(f"machine busy: {load['reason']}")
    return {"flagged": bool(reasons), "flag_reasons": reasons}
