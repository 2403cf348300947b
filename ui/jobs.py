"""Training jobs that run off the script thread, one per device at a time across all sessions.

The worker thread never calls st.*: it appends to plain lists that the page's
polling fragment reads.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from resnet_core.config import TrainConfig, recipe
from resnet_core.data import DatasetUnavailable
from resnet_core.devices import select_device
from resnet_core.experiment import RunResult, make_loaders, run_training
from resnet_core.train import EpochStats, StepProgress, TrainingDiverged

QUEUED, RUNNING, DONE, STOPPED, FAILED = "queued", "running", "done", "stopped", "failed"
# Steps between progress reports: each costs one device sync; 5 keeps a CPU chart lively.
REPORT_EVERY = 5


class DeviceLocks:
    """One lock per device, shared by every session of the server (see ui.resources)."""

    def __init__(self) -> None:
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def for_device(self, device: torch.device) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(str(device), threading.Lock())


def run_on_device(
    job, locks: DeviceLocks, device: torch.device | str, work: Callable[[], str], out_of_memory: str
) -> None:
    """Run `work()` holding the device's lock (one heavy job per device, all sessions); record how it ended.

    `job` has status, error and stop_event; `work()` returns the final status (DONE or STOPPED).
    A device that is not there, like any error, ends in job.error for the page to show instead
    of a traceback from a dead thread.
    """
    try:
        with locks.for_device(select_device(device)):  # waits here (status "queued") while another job uses the device
            if job.stop_event.is_set():
                job.status = STOPPED
                return
            job.status = RUNNING
            job.status = work()
    except (DatasetUnavailable, TrainingDiverged, ValueError) as err:
        job.error, job.status = str(err), FAILED
    except torch.OutOfMemoryError:
        job.error, job.status = f"The device ran out of memory: {out_of_memory}", FAILED
    except Exception as err:  # noqa: BLE001 - the page shows it instead of a dead thread
        job.error, job.status = f"The run failed unexpectedly: {type(err).__name__}: {err}", FAILED


@dataclass
class TrainingJob:
    config: TrainConfig
    data_dir: str | None = None
    id: str = field(default_factory=lambda: secrets.token_urlsafe(8))  # names the run in the page URL
    status: str = QUEUED
    steps: list[StepProgress] = field(default_factory=list)
    epochs: list[EpochStats] = field(default_factory=list)
    result: RunResult | None = None
    test_images: torch.Tensor | None = None  # uint8 (N, 28, 28), in the test loader's order
    error: str | None = None
    started: float = field(default_factory=time.monotonic)
    stop_event: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None

    @property
    def finished(self) -> bool:
        return self.status in (DONE, STOPPED, FAILED)

    def start(self, locks: DeviceLocks) -> None:
        self.thread = threading.Thread(target=self._run, args=(locks,), name="resnet-training", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.stop_event.set()

    def _run(self, locks: DeviceLocks) -> None:
        run_on_device(self, locks, self.config.device, self._train, "choose a smaller batch size or a smaller network.")

    def _train(self) -> str:
        device = select_device(self.config.device)
        self.started = time.monotonic()
        loaders = make_loaders(self.config, self.data_dir, device)
        self.test_images = loaders[1].images.cpu()
        self.result = run_training(
            self.config,
            self.data_dir,
            on_step=self.steps.append,
            on_epoch=lambda stats, _trainer: self.epochs.append(stats),
            stop_event=self.stop_event,
            loaders=loaders,
            report_every=REPORT_EVERY,
        )
        self.result.model.eval()
        # The app never resumes a run, and a finished job may outlive its session in the
        # JobRegistry: Adam's two moment buffers (twice the weights) would only hold memory.
        self.result.trainer.optimizer = self.result.trainer.scheduler = None
        return STOPPED if self.result.stopped else DONE

    def progress_fraction(self) -> float:
        if not self.steps:
            return 0.0
        last = self.steps[-1]
        done = (last.epoch - 1) * last.steps_per_epoch + last.step
        return min(1.0, done / (self.config.epochs * last.steps_per_epoch))

    def seconds_left(self) -> float | None:
        fraction = self.progress_fraction()
        if fraction <= 0 or self.status != RUNNING:
            return None
        elapsed = time.monotonic() - self.started
        return elapsed / fraction - elapsed


class JobRegistry:
    """Training jobs by id, shared by every session, so a reloaded page can find its run again.

    It keeps every unfinished job and the `keep_finished` most recently started finished ones:
    each of those holds a trained model, and a run nobody comes back for should not hold memory forever.
    """

    def __init__(self, keep_finished: int = 4) -> None:
        self.keep_finished = keep_finished
        self._jobs: dict[str, TrainingJob] = {}  # in the order they were added
        self._guard = threading.Lock()

    def add(self, job: TrainingJob) -> None:
        with self._guard:
            self._jobs[job.id] = job
            finished = [job_id for job_id, kept in self._jobs.items() if kept.finished]
            for job_id in finished[: max(0, len(finished) - self.keep_finished)]:
                del self._jobs[job_id]

    def get(self, job_id: str) -> TrainingJob | None:
        with self._guard:
            return self._jobs.get(job_id)


def quick_config(device: str = "auto") -> TrainConfig:
    """The classroom run: the fast recipe's ResNet-18 on 5,000 stratified digits (about a minute on a laptop CPU)."""
    return recipe("fast", train_subset=5_000, device=device)
