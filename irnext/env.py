"""Environment stamp: what produced a number.

Every measured figure in this suite (a PSNR, a latency, a MAC count) is written next to the
stamp of the machine and software that produced it, so a table can say which card, driver,
precision and library versions stand behind each cell.
"""

from __future__ import annotations

import datetime as _dt
import functools
import os
import platform
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import torch

from irnext._version import __version__


def git_commit(repo: str | os.PathLike | None = None) -> str | None:
    """The commit of the source tree this package runs from (None outside a git checkout)."""
    where = Path(repo) if repo is not None else Path(__file__).resolve().parent.parent
    git = ["git", "-C", str(where)]
    head = _tool_output([*git, "rev-parse", "--short=12", "HEAD"], timeout=5)
    if head is None:
        return None
    dirty = _tool_output([*git, "status", "--porcelain", "--untracked-files=no"], timeout=5)
    return None if dirty is None else head + ("+dirty" if dirty else "")


def _tool_output(argv: list[str], *, timeout: float) -> str | None:
    """The stripped stdout of a command, or None where the tool is absent, fails or hangs: the
    stamp records what it can find and never stops a run for lack of git or nvidia-smi."""
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip()


def _image_decoders() -> dict[str, str | None]:
    """Pillow and its JPEG library: JPEG decoders differ in their last bits (SOTS-outdoor
    inputs are JPEG), so scores name the one that read the images."""
    import PIL
    from PIL import features

    turbo = features.version("libjpeg_turbo")
    return {
        "pillow": PIL.__version__,
        "libjpeg": f"libjpeg-turbo {turbo}" if turbo else features.version("jpg"),
    }


def environment_stamp(device: torch.device | str | None = None) -> dict[str, Any]:
    """Versions, hardware and numerics settings, as a flat JSON-able dict.

    `device` names the device the measurement ran on; its name and (for CUDA) the driver and
    capability are recorded. CPU runs record the intra-op thread count, which moves CPU
    latency more than anything else.

    What cannot change while a process runs (git commit, versions, the CPU and GPU, the driver)
    is computed once per process and device; the settings (threads, cuDNN, TF32) and the
    timestamp are read at each call.
    """
    device = torch.device(device) if device is not None else torch.device("cpu")
    if device.type == "cuda" and device.index is None and torch.cuda.is_available():
        device = torch.device("cuda", torch.cuda.current_device())
    return {
        **_static_stamp(str(device)),
        "timestamp_utc": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "torch_num_threads": torch.get_num_threads(),
        "cudnn_benchmark": bool(torch.backends.cudnn.benchmark),
        "tf32_matmul": bool(torch.backends.cuda.matmul.allow_tf32),
        "tf32_cudnn": bool(torch.backends.cudnn.allow_tf32),
    }


@functools.cache
def _static_stamp(device_name: str) -> dict[str, Any]:
    device = torch.device(device_name)
    stamp: dict[str, Any] = {
        "irnext_version": __version__,
        "git_commit": git_commit(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "torch": torch.__version__,
        "numpy": np.__version__,
        **_image_decoders(),
        "cuda": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None,
        "device": str(device),
        "device_name": _cpu_name(),
    }
    if device.type == "cuda" and torch.cuda.is_available():
        props = torch.cuda.get_device_properties(device.index)
        stamp["device_name"] = props.name
        stamp["device_memory_gib"] = round(props.total_memory / 2**30, 1)
        stamp["device_capability"] = f"{props.major}.{props.minor}"
        stamp["driver"] = _nvidia_driver()
    return stamp


def _cpu_name() -> str:
    """The CPU model ('model name' in /proc/cpuinfo on Linux), else the architecture."""
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _nvidia_driver() -> str | None:
    out = _tool_output(
        ["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"], timeout=10
    )
    return out.splitlines()[0] if out else None
