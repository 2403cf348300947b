"""A job: long work (a training run, the Residual Lab's twins or depth sweep) on a thread of its own,
one per device at a time across all sessions, that every session may watch and only its starter may stop.

The work reports its progress in plain Python objects that the page's polling fragment reads; the
worker thread never calls st.*.
"""

from __future__ import annotations

import math
import os
import secrets
import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Protocol

import torch

from resnet_core.data.datasets import DatasetUnavailable
from resnet_core.devices import select_device
from resnet_core.training.trainer import TrainingDiverged
from ui.jobs.device_queue import DeviceQueues, device_queues

QUEUED, RUNNING, DONE, STOPPED, FAILED = "queued", "running", "done", "stopped", "failed"
# Seconds without the owner's page polling a job after which anyone may stop it.
OWNER_GONE_S = 30
# Seconds over which the time-left figure follows a new measurement: it counts down steadily
# instead of jumping while a validation pass pauses the steps.
TIME_LEFT_SMOOTHING_S = 10.0
PACE_TRUSTED_AT = 0.25  # share of the work after which its own pace, not the estimate, gives the time left
# Niceness of a job's thread: the CPU is shared with every page the server draws, and a class's
# drawings must not wait behind one student's run (docs/benchmarks.md, "A class at once").
JOB_NICENESS = 10


@dataclass(frozen=True)
class Progress:
    fraction: float  # of the whole work done, 0..1
    step: Hashable  # where the work stood when last measured: the time left is measured again only when it moves
    text: str  # what the progress bar says: "epoch 2/5", "Training both networks: step 30 of 63", ...


class Work(Protocol):
    """What a job runs: run() is called once, on the job's thread; progress() from any thread."""

    kind: str  # "training", "twins", "sweep": the registry keeps the newest finished jobs of each kind
    out_of_memory: str  # what to change when the device runs out of memory

    @property
    def device(self) -> torch.device | str: ...

    def run(self, stop_event: threading.Event) -> bool:
        """Work until done or until stop_event is set; True if it stopped before the end."""
        ...

    def progress(self) -> Progress: ...


def new_owner_token() -> str:
    """A session's secret: it stops the jobs that session started. Never put in a URL."""
    return secrets.token_urlsafe(16)


def _yield_to_pages() -> None:
    """Lower this thread's CPU priority (Linux nices threads one by one; the math-library threads the
    work starts from here inherit it). Elsewhere, or where refused, the job runs as it is."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), JOB_NICENESS)
    except (AttributeError, OSError):
        pass


@dataclass(eq=False)
class Job:
    """One piece of work every session can see. Who may stop it: the teacher, the session that started it
    (it holds `owner`, a token that is never in a URL), or anyone once that session has been gone for
    OWNER_GONE_S. A reload starts a new session without the token; without the second rule a job whose
    starter closed the tab could not be stopped, and every job after it would wait in line behind it.
    """

    work: Work
    owner: str = ""  # token of the session that started it; "" = anyone may stop it
    key: Hashable | None = None  # the settings that decide the result: equal keys, one shared job; None: its own
    estimated_seconds: float | None = None  # the whole work, from the speed measured on this device
    id: str = field(default_factory=lambda: secrets.token_urlsafe(8))  # names the job in a page URL, read-only
    status: str = QUEUED
    error: str | None = None
    stop_event: threading.Event = field(default_factory=threading.Event)
    owner_seen: float = field(default_factory=time.monotonic)  # when the owner's session was last seen
    # Whether the starting session is still connected, whatever page it shows; None where the server
    # cannot tell (then a page polling the job is what keeps it the owner's).
    owner_connected: Callable[[], bool] | None = None
    # The starting device's network address, where the server knows it and it is not this computer:
    # a reload starts a new session (a new token), but the same phone asks from the same address.
    owner_address: str | None = None
    stopped_by_teacher: bool = False
    started: float = field(default_factory=time.monotonic)  # when it got the device
    thread: threading.Thread | None = None
    _time_left: tuple[float, float, Hashable] | None = None  # (seconds left, when, progress step then) last measured

    @property
    def finished(self) -> bool:
        return self.status in (DONE, STOPPED, FAILED)

    def can_stop(self, token: str, teacher: bool = False) -> bool:
        return teacher or token == self.owner or self.owner_gone()

    def owner_gone(self) -> bool:
        """True once the starting session has been away OWNER_GONE_S: closed (where the server can tell),
        else showing no page that polls the job."""
        if self.owner_connected is not None and self.owner_connected():
            self.owner_seen = time.monotonic()
        return time.monotonic() - self.owner_seen > OWNER_GONE_S

    def seen_by(self, token: str) -> None:
        """Called by each poll of a page showing the job: the owner's keeps the job theirs."""
        if token == self.owner:
            self.owner_seen = time.monotonic()

    def stop(self, token: str, teacher: bool = False) -> bool:
        """Stop the job if `token` (or the teacher) may (can_stop); False (nothing done) otherwise."""
        if not self.can_stop(token, teacher):
            return False
        self.stopped_by_teacher = teacher and token != self.owner
        self.stop_event.set()
        return True

    def start(self, queues: DeviceQueues = device_queues) -> None:
        self.thread = threading.Thread(target=self._run, args=(queues,), name=f"resnet-{self.work.kind}", daemon=True)
        self.thread.start()

    def _run(self, queues: DeviceQueues) -> None:
        """Wait in the device's line, run the work, record how it ended: any error ends in `error` for the
        page to show, instead of a traceback from a dead thread."""
        _yield_to_pages()
        try:
            with queues.for_device(select_device(self.work.device)).turn(self) as ours:  # "queued" while others go
                if not ours:
                    self.status = STOPPED
                    return
                self.started = time.monotonic()
                self.status = RUNNING
                self.status = STOPPED if self.work.run(self.stop_event) else DONE
        except (DatasetUnavailable, TrainingDiverged, ValueError) as err:
            self.error, self.status = str(err), FAILED
        except torch.OutOfMemoryError:
            self.error, self.status = f"The device ran out of memory: {self.work.out_of_memory}", FAILED
        except Exception as err:  # noqa: BLE001 - the page shows it instead of a dead thread
            self.error, self.status = f"The run failed unexpectedly: {type(err).__name__}: {err}", FAILED

    def seconds_left(self, now: float | None = None) -> float | None:
        """Seconds until the work ends, smoothed; None before its first measured progress or once it is over.

        Early on, the speed measured before the job (estimated_seconds) says more than a few steps do,
        so the figure moves from that estimate to the job's own pace over the first PACE_TRUSTED_AT of
        the work. It is measured again only when the work's progress moves, and follows each new figure
        over TIME_LEFT_SMOOTHING_S seconds, counting down in between.
        """
        progress = self.work.progress()
        if progress.fraction <= 0 or self.status != RUNNING:
            return None
        now = time.monotonic() if now is None else now
        if self._time_left is not None:
            previous, then, seen = self._time_left
            counted_down = max(previous - (now - then), 0.0)
            if progress.step == seen:  # nothing new since (validation, a slow step): count down, measure nothing
                return counted_down
        elapsed = now - self.started
        fraction = min(progress.fraction, 1.0)
        left = elapsed / fraction - elapsed
        if self.estimated_seconds:
            trust = min(1.0, fraction / PACE_TRUSTED_AT)
            left = (1 - trust) * self.estimated_seconds * (1 - fraction) + trust * left
        if self._time_left is not None:
            weight = 1 - math.exp(-max(now - then, 0.0) / TIME_LEFT_SMOOTHING_S)
            left = counted_down + weight * (left - counted_down)
        self._time_left = (left, now, progress.step)
        return left
