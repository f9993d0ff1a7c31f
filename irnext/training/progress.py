"""Watching a run: a tqdm bar on a terminal, plain periodic lines otherwise (logs, DVC), and
optional dvclive metrics. Everything goes to stderr; stdout keeps the final summary alone."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any, TextIO

from irnext.errors import InputError
from irnext.io import atomic_write_text
from irnext.training.hooks import Hooks


def progress_hooks(mode: str = "auto", stream: TextIO | None = None) -> Hooks:
    """`auto`: a bar when `stream` (default stderr) is a terminal, else plain lines; `bar`,
    `plain` or `none` force one."""
    stream = stream or sys.stderr
    if mode == "auto":
        mode = "bar" if stream.isatty() else "plain"
    if mode == "bar":
        return ProgressBar(stream)
    return PlainProgress(stream) if mode == "plain" else Hooks()


def _rounded(record: dict[str, Any]) -> dict[str, Any]:
    return {k: round(v, 6) if isinstance(v, float) else v for k, v in record.items()}


class ProgressBar(Hooks):
    """tqdm over all steps of the run: it/s and ETA from tqdm, loss and lr at each read."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.bar = None

    def step(self, step: int, total: int) -> None:
        if self.bar is None:
            from tqdm import tqdm

            self.bar = tqdm(total=total, initial=step - 1, file=self.stream, unit="step")
        self.bar.update(1)

    def metrics(self, step: int, values: dict[str, float]) -> None:
        if self.bar is not None:
            self.bar.set_postfix(loss=f"{values['loss']:.4f}", lr=f"{values['lr']:.2e}")

    def epoch(self, record: dict[str, Any], seconds: float, images: int) -> None:
        line = json.dumps(_rounded(record))
        self.bar.write(line, file=self.stream) if self.bar else print(line, file=self.stream)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


class PlainProgress(Hooks):
    """One line per loss read: step, epoch, loss, lr, steps/s and the time left; one JSON line
    per epoch."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.since: tuple[float, int] | None = None

    def step(self, step: int, total: int) -> None:
        if self.since is None:  # timed from the end of the first step: no start-up in it
            self.since = (time.perf_counter(), step)
        self.total = total

    def metrics(self, step: int, values: dict[str, float]) -> None:
        started, first = self.since or (time.perf_counter(), step)
        speed = ""
        if step > first:
            rate = (step - first) / max(time.perf_counter() - started, 1e-9)
            speed = f" {rate:.2f} step/s ETA {(self.total - step) / rate:.0f} s"
        print(
            f"step {step}/{self.total} epoch {values['epoch']} loss {values['loss']:.5f} "
            f"lr {values['lr']:.3e}{speed}",
            file=self.stream,
            flush=True,
        )

    def epoch(self, record: dict[str, Any], seconds: float, images: int) -> None:
        print(json.dumps(_rounded(record)), file=self.stream, flush=True)


class MetricsNotWritten(InputError):
    """The metrics log could not be written (a full disk): the run stops, its checkpoints kept."""


class DvcLiveLog(Hooks):
    """dvclive metrics in `folder` (loss, lr, images/s at each read; val PSNR/SSIM), step by
    optimiser step. It writes no dvc.yaml and starts no DVC experiment: a pipeline stage that
    runs `irnext train` keeps its own outputs. `resume_step` continues the curve of a resumed
    run (rows logged after that step, by the run that stopped, are dropped) instead of wiping
    it. A failed write (a full disk) is an `InputError` naming the folder."""

    def __init__(
        self, folder: str | Path, *, batch_images: int, resume_step: int | None = None
    ) -> None:
        from dvclive import Live

        self.folder = Path(folder)
        resume = resume_step is not None
        if resume:
            self._write(_drop_rows_after, self.folder, resume_step)
        self.live = self._write(
            Live, str(folder), dvcyaml=None, save_dvc_exp=False, report=None, resume=resume
        )
        self.batch_images = batch_images  # images per optimiser step, all ranks together
        self.clock: tuple[float, int] | None = None

    def _write(self, call, *args, **kwargs):
        try:
            return call(*args, **kwargs)
        except OSError as error:
            raise MetricsNotWritten(
                f"{self.folder}: dvclive could not write its metrics ({error.strerror or error}); "
                "free space or drop --dvclive"
            ) from error

    def metrics(self, step: int, values: dict[str, float]) -> None:
        self._write(self._metrics, step, values)

    def _metrics(self, step: int, values: dict[str, float]) -> None:
        now = time.perf_counter()
        self.live.step = step
        self.live.log_metric("train/loss", values["loss"])
        self.live.log_metric("train/lr", values["lr"])
        if self.clock is not None and step > self.clock[1]:
            rate = (step - self.clock[1]) * self.batch_images / (now - self.clock[0])
            self.live.log_metric("train/images_per_s", rate)
        self.clock = (now, step)
        self.live.make_summary()

    def validation(self, record: dict[str, Any]) -> None:
        self._write(self._validation, record)

    def _validation(self, record: dict[str, Any]) -> None:
        self.live.step = record["step"]
        self.live.log_metric("val/psnr_db", record["val_psnr_db"])
        self.live.log_metric("val/ssim", record["val_ssim"])
        self.live.make_summary()

    def close(self) -> None:
        self._write(self.live.end)


def _drop_rows_after(folder: Path, step: int) -> None:
    """Keep each dvclive metric file's rows up to `step` (tab-separated, a 'step' column)."""
    for path in sorted((folder / "plots" / "metrics").rglob("*.tsv")):
        header, *rows = path.read_text(encoding="utf-8").splitlines(keepends=True)
        column = header.rstrip("\n").split("\t").index("step")
        kept = [row for row in rows if int(row.split("\t")[column]) <= step]
        atomic_write_text(path, header + "".join(kept))
