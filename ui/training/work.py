"""A training run as a job's work (ui.jobs.job): its settings, its live progress and, once over, its model."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import torch

from resnet_core.data.datasets import DATASETS
from resnet_core.devices import select_device
from resnet_core.training.config import TrainConfig
from resnet_core.training.runner import RunResult, make_loaders, run_training
from resnet_core.training.trainer import EpochStats, StepProgress, ValidationCheck
from ui.jobs.job import Progress
from ui.models.model_list import ModelEntry

# Steps between progress reports: each costs one device sync; 5 keeps a CPU chart lively.
REPORT_EVERY = 5


@dataclass(eq=False)
class TrainingWork:
    config: TrainConfig
    data_dir: str | None = None
    steps: list[StepProgress] = field(default_factory=list)  # appended by the worker, read by the page
    epochs: list[EpochStats] = field(default_factory=list)
    checks: list[ValidationCheck] = field(default_factory=list)  # every validation pass, within epochs too
    result: RunResult | None = None
    test_images: torch.Tensor | None = None  # uint8 (N, 28, 28), in the test loader's order
    ended_at: datetime | None = None  # wall-clock time the training ended (the Runs page's date)
    entry: ModelEntry | None = None  # the finished run's model as a model-list entry, made once and shared
    saved_to: Path | None = None  # the checkpoints folder's file it was saved as, once

    kind = "training"
    out_of_memory = "choose a smaller batch size or a smaller network."

    @property
    def device(self) -> str:
        return self.config.device

    @property
    def has_model(self) -> bool:
        """Whether the run left a tested model (not when it failed, or was stopped before its first step)."""
        return self.result is not None and self.result.test is not None

    def run(self, stop_event: threading.Event) -> bool:
        loaders = make_loaders(self.config, self.data_dir, select_device(self.config.device))
        self.test_images = loaders.test.images.cpu()
        self.result = run_training(
            self.config,
            self.data_dir,
            on_step=self.steps.append,
            on_epoch=lambda stats, _trainer: self.epochs.append(stats),
            stop_event=stop_event,
            loaders=loaders,
            report_every=REPORT_EVERY,
            on_check=self.checks.append,
        )
        self.result.model.eval()
        # The app never resumes a run, and a finished job may outlive its session in the
        # registry: Adam's two moment buffers (twice the weights) would only hold memory.
        self.result.trainer.optimizer = self.result.trainer.scheduler = None
        self.ended_at = datetime.now()
        return self.result.stopped

    def progress(self) -> Progress:
        if not self.steps:
            return Progress(0.0, 0, "starting: putting the digits in place for the first step…")
        last = self.steps[-1]
        done = (last.epoch - 1) * last.steps_per_epoch + last.step
        text = f"epoch {last.epoch}/{self.config.epochs}"
        if last.step == last.steps_per_epoch and len(self.epochs) < last.epoch and self.result is None:
            # Between an epoch's last step and its results the page would otherwise sit still for seconds.
            items = DATASETS[self.config.dataset].items
            text += f": measuring accuracy on the {self.config.validation_size:,} validation {items}…"
        return Progress(min(1.0, done / (self.config.epochs * last.steps_per_epoch)), len(self.steps), text)
