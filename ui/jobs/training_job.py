"""Training jobs that run off the script thread, one per device at a time across all sessions.

The worker thread never calls st.*: it appends to plain lists that the page's
polling fragment reads.
"""

from __future__ import annotations

import contextlib
import math
import os
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

import torch

from resnet_core.data.datasets import DatasetUnavailable
from resnet_core.devices import select_device
from resnet_core.training.config import TrainConfig, recipe
from resnet_core.training.runner import RunResult, make_loaders, run_training
from resnet_core.training.trainer import EpochStats, StepProgress, TrainingDiverged
from ui.training.lengths import RUN_LENGTHS

QUEUED, RUNNING, DONE, STOPPED, FAILED = "queued", "running", "done", "stopped", "failed"
# Steps between progress reports: each costs one device sync; 5 keeps a CPU chart lively.
REPORT_EVERY = 5
# Seconds over which the time-left figure follows a new measurement: it counts down steadily
# instead of jumping while an epoch's validation pauses the steps.
TIME_LEFT_SMOOTHING_S = 10.0
PACE_TRUSTED_AT = 0.25  # share of the run after which its own pace, not the estimate, gives the time left
# Seconds without the owner's page polling a running run after which anyone may stop it.
OWNER_GONE_S = 30


def new_owner_token() -> str:
    """A session's secret: it stops the runs that session started. Never put in a URL."""
    return secrets.token_urlsafe(16)


class OwnedRun:
    """Who may stop a run that every session can see: the session that started it (it holds
    `owner`, a token that is never in a URL), or anyone once that session's page has been gone
    for OWNER_GONE_S. A reload starts a new session without the token; without the second rule a
    run whose starter closed the tab could not be stopped, and every run after it would queue.

    A dataclass using it has the fields `owner: str`, `owner_seen: float` and `stop_event`.
    """

    owner: str
    owner_seen: float
    stop_event: threading.Event

    def can_stop(self, token: str) -> bool:
        return token == self.owner or time.monotonic() - self.owner_seen > OWNER_GONE_S

    def seen_by(self, token: str) -> None:
        """Called by each poll of a page showing the run: the owner's keeps the run theirs."""
        if token == self.owner:
            self.owner_seen = time.monotonic()

    def stop(self, token: str) -> bool:
        """Stop the run if `token` may (can_stop); False (nothing done) otherwise."""
        if not self.can_stop(token):
            return False
        self.stop_event.set()
        return True


class DeviceQueue:
    """First come, first served use of one device: the run at the head of the line has it.

    Unlike a plain lock it knows who waits, so a waiting page can say "you are 3rd".
    """

    def __init__(self) -> None:
        self._line: list = []
        self._changed = threading.Condition()

    @contextlib.contextmanager
    def turn(self, job) -> Iterator[bool]:
        """Wait in line for the device; yields True with the device held, False if the job was stopped first."""
        with self._changed:
            self._line.append(job)
            while self._line[0] is not job and not job.stop_event.is_set():
                self._changed.wait(timeout=0.5)
        try:
            yield self._line[0] is job and not job.stop_event.is_set()
        finally:
            with self._changed:
                self._line.remove(job)
                self._changed.notify_all()

    @property
    def busy(self) -> bool:
        return bool(self._line)

    def ahead_of(self, job) -> list:
        """The runs before `job` in line, the one using the device first; [] when it is first or not in line."""
        with self._changed:
            return list(self._line[: self._line.index(job)]) if job in self._line else []


class DeviceLocks:
    """One queue per device, shared by every session of the server (see ui.resources)."""

    def __init__(self) -> None:
        self._queues: dict[str, DeviceQueue] = {}
        self._guard = threading.Lock()

    def for_device(self, device: torch.device | str) -> DeviceQueue:
        with self._guard:
            return self._queues.setdefault(str(torch.device(device)), DeviceQueue())


# Niceness of a training thread: the CPU is shared with every page the server draws, and a
# class's drawings must not wait behind one student's run (docs/benchmarks.md, "A class at once").
TRAINING_NICENESS = 10


def _yield_to_pages() -> None:
    """Lower this thread's CPU priority (Linux nices threads one by one; the math-library threads
    training starts from here inherit it). Elsewhere, or where refused, training runs as it is."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), TRAINING_NICENESS)
    except (AttributeError, OSError):
        pass


def run_on_device(
    job, locks: DeviceLocks, device: torch.device | str, work: Callable[[], str], out_of_memory: str
) -> None:
    """Run `work()` holding the device's lock (one heavy job per device, all sessions); record how it ended.

    `job` has status, error and stop_event; `work()` returns the final status (DONE or STOPPED).
    A device that is not there, like any error, ends in job.error for the page to show instead
    of a traceback from a dead thread.
    """
    _yield_to_pages()
    try:
        with locks.for_device(select_device(device)).turn(job) as ours:  # status "queued" while others go first
            if not ours:
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


@dataclass(eq=False)
class TrainingJob(OwnedRun):
    config: TrainConfig
    owner: str = ""  # token of the session that started it (see OwnedRun); "" = anyone may stop it
    data_dir: str | None = None
    id: str = field(default_factory=lambda: secrets.token_urlsafe(8))  # names the run in the page URL, read-only
    status: str = QUEUED
    steps: list[StepProgress] = field(default_factory=list)
    epochs: list[EpochStats] = field(default_factory=list)
    result: RunResult | None = None
    test_images: torch.Tensor | None = None  # uint8 (N, 28, 28), in the test loader's order
    error: str | None = None
    started: float = field(default_factory=time.monotonic)
    stop_event: threading.Event = field(default_factory=threading.Event)
    owner_seen: float = field(default_factory=time.monotonic)
    thread: threading.Thread | None = None
    estimated_seconds: float | None = None  # the whole run, from the speed measured on this device
    entry: object = None  # ui.models.model_list.ActiveModel of the finished run's model, made once and shared
    ended_at: datetime | None = None  # wall-clock time the training ended (the Runs page's date)
    _time_left: tuple[float, float, int] | None = None  # (seconds left, when, step reports then) last measured

    @property
    def finished(self) -> bool:
        return self.status in (DONE, STOPPED, FAILED)

    def start(self, locks: DeviceLocks) -> None:
        self.thread = threading.Thread(target=self._run, args=(locks,), name="resnet-training", daemon=True)
        self.thread.start()

    def _run(self, locks: DeviceLocks) -> None:
        run_on_device(self, locks, self.config.device, self._train, "choose a smaller batch size or a smaller network.")

    def _train(self) -> str:
        device = select_device(self.config.device)
        self.started = time.monotonic()
        loaders = make_loaders(self.config, self.data_dir, device)
        self.test_images = loaders.test.images.cpu()
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
        self.ended_at = datetime.now()
        return STOPPED if self.result.stopped else DONE

    def progress_fraction(self) -> float:
        if not self.steps:
            return 0.0
        last = self.steps[-1]
        done = (last.epoch - 1) * last.steps_per_epoch + last.step
        return min(1.0, done / (self.config.epochs * last.steps_per_epoch))

    def seconds_left(self, now: float | None = None) -> float | None:
        """Seconds until the run ends, smoothed; None before its first step or once it is over.

        Early on, the speed measured before the run says more than a few steps do, so the figure
        moves from that estimate to the run's own pace over the first quarter. It is measured again
        only when a new step is reported, and follows each new figure over TIME_LEFT_SMOOTHING_S
        seconds, counting down in between.
        """
        fraction = self.progress_fraction()
        if fraction <= 0 or self.status != RUNNING:
            return None
        now = time.monotonic() if now is None else now
        reports = len(self.steps)
        if self._time_left is not None:
            previous, then, seen = self._time_left
            counted_down = max(previous - (now - then), 0.0)
            if reports == seen:  # no step since (validation, or a slow step): count down, measure nothing
                return counted_down
        elapsed = now - self.started
        left = elapsed / fraction - elapsed
        if self.estimated_seconds:
            trust = min(1.0, fraction / PACE_TRUSTED_AT)
            left = (1 - trust) * self.estimated_seconds * (1 - fraction) + trust * left
        if self._time_left is not None:
            weight = 1 - math.exp(-max(now - then, 0.0) / TIME_LEFT_SMOOTHING_S)
            left = counted_down + weight * (left - counted_down)
        self._time_left = (left, now, reports)
        return left


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

    def finished_runs(self) -> list[TrainingJob]:
        """Runs kept that ended with a model (done, or stopped after a step), newest first."""
        with self._guard:
            jobs = list(self._jobs.values())
        return [
            job for job in reversed(jobs) if job.finished and job.result is not None and job.result.test is not None
        ]


def quick_config(device: str = "auto") -> TrainConfig:
    """The classroom run: the fast recipe's ResNet-18 at the Train page's Quick length."""
    return RUN_LENGTHS["Quick"].apply(recipe("fast", device=device))
