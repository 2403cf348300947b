"""The Residual Lab's runs as a job's work (ui.jobs.job): twins trained together, or twins at several depths."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import torch

from resnet_core.depth_study.reference import Reference
from resnet_core.depth_study.twins import DepthSweep, TwinRun, TwinSnapshot
from ui.caches import latest_per
from ui.jobs.job import Progress

OUT_OF_MEMORY = "choose fewer digits or a shallower net."


def _step_text(snap: TwinSnapshot | None) -> str:
    if snap is not None and snap.steps_done >= snap.total_steps:
        return "measuring both networks on the training and test digits…"
    if snap is not None and snap.steps_done:
        return f"step {snap.steps_done} of {snap.total_steps}"
    return "starting…"


def _share_done(snap: TwinSnapshot | None) -> float:
    return min(1.0, snap.steps_done / max(snap.total_steps, 1)) if snap is not None else 0.0


@dataclass(eq=False)
class TwinWork:
    twins: TwinRun
    in_advance: Reference | None = None  # the file it was measured from, when it was not trained here

    kind = "twins"
    out_of_memory = OUT_OF_MEMORY

    @property
    def device(self) -> torch.device:
        return self.twins.device

    @property
    def archs(self) -> list[str]:
        return [self.twins.config.arch]

    def run(self, stop_event: threading.Event) -> bool:
        self.twins.run(stop_event)
        return self.twins.stopped

    def snapshot(self) -> TwinSnapshot:
        """The run as it stands, copied once per change however many pages look."""
        return latest_per(self.twins, "snapshot", self.twins.updates, self.twins.snapshot)

    def progress(self) -> Progress:
        snap = self.snapshot()
        return Progress(_share_done(snap), snap.steps_done, f"Training both networks: {_step_text(snap)}")


def layers(arch: str) -> int:
    """A depth-family net's weighted layers, which its name gives: resnet56 has 56."""
    return int(arch.removeprefix("resnet"))


@dataclass(eq=False)
class SweepWork:
    sweep: DepthSweep
    in_advance: Reference | None = None  # the file it was measured from, when it was not trained here

    kind = "sweep"
    out_of_memory = OUT_OF_MEMORY

    @property
    def device(self) -> torch.device:
        return self.sweep.data.train.device

    @property
    def archs(self) -> list[str]:
        return self.sweep.archs

    def run(self, stop_event: threading.Event) -> bool:
        self.sweep.run(stop_event)
        return self.sweep.stopped

    def progress(self) -> Progress:
        """The whole sweep's progress, each depth counting as its layers (a step of ResNet-56 costs about
        seven of ResNet-8), so the time left is the sweep's, not only the running depth's."""
        archs = self.sweep.archs
        weights = [layers(arch) for arch in archs]
        current = self.sweep.current  # the depth training now: it stays until the next one starts
        if current is None:  # not started, or over
            points, _ = self.sweep.snapshot()
            text = (
                f"{len(points)} of {len(archs)} depths done"
                if points
                else f"Depth 1 of {len(archs)} ({archs[0]}): starting…"
            )
            return Progress(sum(weights[: len(points)]) / sum(weights), (len(points), 0), text)
        index = archs.index(current.config.arch)
        snap = current.snapshot()
        done = sum(weights[:index]) + weights[index] * _share_done(snap)
        text = f"Depth {index + 1} of {len(archs)} ({archs[index]}): {_step_text(snap)}"
        return Progress(done / sum(weights), (index, snap.steps_done), text)
