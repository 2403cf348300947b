"""A dependency-free text progress bar for training in a terminal (one line redrawn) or a log (a few lines)."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from resnet_core.training.trainer import StepProgress


def format_duration(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class ProgressBar:
    """Draws StepProgress reports; in a terminal it redraws one line, in a log it prints each quarter epoch."""

    def __init__(self, total_epochs: int, stream: TextIO | None = None, width: int = 24) -> None:
        self.total_epochs = total_epochs
        self.stream = stream or sys.stderr
        self.width = width
        self.interactive = self.stream.isatty()
        self.epoch_started = time.perf_counter()
        self._last_quarter = -1

    def start_epoch(self) -> None:
        self.epoch_started = time.perf_counter()
        self._last_quarter = -1

    def update(self, p: StepProgress) -> None:
        done = p.step / p.steps_per_epoch
        elapsed = time.perf_counter() - self.epoch_started
        left = elapsed / done - elapsed if done > 0 else 0.0
        filled = int(self.width * done)
        line = (
            f"epoch {p.epoch}/{self.total_epochs} [{'#' * filled}{'.' * (self.width - filled)}] "
            f"{p.step}/{p.steps_per_epoch}  loss {p.loss:.4f}  acc {p.accuracy:5.2f}%  "
            f"{p.images_per_second:,.0f} img/s  left {format_duration(left)}"
        )
        if self.interactive:
            self.stream.write("\r" + line)
            if p.step == p.steps_per_epoch:
                self.stream.write("\n")
        else:
            quarter = int(4 * done)
            if quarter == self._last_quarter:
                return
            self._last_quarter = quarter
            self.stream.write(line + "\n")
        self.stream.flush()
