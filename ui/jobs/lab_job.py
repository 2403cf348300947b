"""Residual Lab runs (twin runs, depth sweeps) off the script thread, shared by settings across sessions.

A class that opens the lab with the same settings sees the one run the first student (or
the teacher) started, live or finished, instead of each training their own. Only the
session that started a run can stop it (ui.jobs.training_job.OwnedRun), until its page has been gone for
OWNER_GONE_S seconds. The worker thread never calls st.*; pages read the run's snapshot().
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from resnet_core.depth_study.twins import TWINS, DepthSweep, TwinRun
from resnet_core.inside.lesion import LesionResult, lesion_study
from resnet_core.inside.loss_slice import LossSlice, loss_slice
from ui.jobs.training_job import DONE, FAILED, QUEUED, STOPPED, DeviceLocks, OwnedRun, run_on_device

TWIN_RUN, SWEEP = "twins", "sweep"


@dataclass(eq=False)
class LabJob(OwnedRun):
    kind: str  # TWIN_RUN or SWEEP
    key: tuple  # the settings that decide the result: equal keys, equal runs
    work: TwinRun | DepthSweep
    owner: str  # token of the session that started it; only it may stop the run while it is there
    status: str = QUEUED
    error: str | None = None
    stop_event: threading.Event = field(default_factory=threading.Event)
    owner_seen: float = field(default_factory=time.monotonic)  # when the owner's page last showed the run
    # Studies of the finished twins (lesions, loss slices), computed once by the first session
    # that asks and shared with every other: name -> result.
    analyses: dict[str, object] = field(default_factory=dict)
    _analysis_lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def finished(self) -> bool:
        return self.status in (DONE, STOPPED, FAILED)

    def start(self, locks: DeviceLocks) -> None:
        threading.Thread(target=self._run, args=(locks,), name=f"resnet-lab-{self.kind}", daemon=True).start()

    def _run(self, locks: DeviceLocks) -> None:
        run_on_device(self, locks, self.work.data.train.device, self._work, "choose fewer digits or a shallower net.")

    def _work(self) -> str:
        self.work.run(self.stop_event)
        return STOPPED if self.work.stopped else DONE

    def analysis(self, name: str, compute: Callable[[], object]) -> object:
        """The named study of this run, computed by `compute()` the first time any session asks."""
        with self._analysis_lock:
            if name not in self.analyses:
                self.analyses[name] = compute()
            return self.analyses[name]

    def lesion_results(self, images: torch.Tensor, labels: torch.Tensor) -> dict[str, list[LesionResult]]:
        """One-block-at-a-time lesion studies of both twins."""
        return self.analysis(
            "lesions", lambda: {twin: lesion_study(self.work.nets[twin], images, labels) for twin in TWINS}
        )

    def loss_slices(self, images: torch.Tensor, labels: torch.Tensor) -> dict[str, LossSlice]:
        """Both twins' loss along a filter-normalised random direction (the same seed for both)."""
        return self.analysis(
            "loss slices", lambda: {twin: loss_slice(self.work.nets[twin], images, labels) for twin in TWINS}
        )


class LabRegistry:
    """Lab runs by settings, for every session; keeps unfinished runs and the newest finished ones."""

    def __init__(self, keep_finished: int = 4) -> None:
        self.keep_finished = keep_finished
        self._jobs: dict[tuple, LabJob] = {}
        self._guard = threading.Lock()

    def get(self, key: tuple) -> LabJob | None:
        with self._guard:
            return self._jobs.get(key)

    def start(self, kind: str, key: tuple, make_work, owner: str, locks: DeviceLocks) -> LabJob:
        """The run with these settings: the one already on the server, else a new one started now.

        A stopped or failed run is replaced by a new one; a running or finished one is shared.
        """
        with self._guard:
            job = self._jobs.get(key)
            if job is not None and job.status not in (STOPPED, FAILED):
                return job
            job = LabJob(kind, key, make_work(), owner)
            self._jobs.pop(key, None)
            self._jobs[key] = job
            finished = [k for k, kept in self._jobs.items() if kept.finished and kept.kind == kind]
            for k in finished[: max(0, len(finished) - self.keep_finished)]:
                del self._jobs[k]
        job.start(locks)
        return job
