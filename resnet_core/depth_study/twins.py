"""Twins: a residual net and its plain twin trained step for step on the same batches, and depth sweeps of them.

Both nets start from the same seed and see the same digits in the same order with the
same schedule (one batch, two optimiser steps), so any difference between their curves
comes from the shortcuts. The data is loaded onto the device once and shared.

data = lab_data(train_subset=6000, test_subset=1000)
run = TwinRun(default_twin_config("resnet20"), data)
run.run()                     # or in a thread, reading run.snapshot() meanwhile
sweep = DepthSweep(["resnet8", "resnet20", "resnet56"], default_twin_config(), data)
sweep.run()
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field, replace

import torch
from torch import Tensor

from resnet_core.data.datasets import DeviceBatches, MNISTDataLoader
from resnet_core.devices import select_device
from resnet_core.inside.gradient_flow import GradientFlow, GradientFlowRecorder
from resnet_core.networks.layer_tables import weighted_depth
from resnet_core.networks.resnet import ResNet, build_model
from resnet_core.training.config import TrainConfig
from resnet_core.training.evaluation import accuracy, evaluate, tensor_batches
from resnet_core.training.trainer import ResNetTrainer

TWINS = ("residual", "plain")


@dataclass
class LabData:
    train: DeviceBatches  # the training digits, uint8 on the device; each run batches them its own way
    train_images: Tensor  # (N, 1, 28, 28) normalised, un-augmented: the training digits whose loss is reported
    train_labels: Tensor  # (N,)
    test_images: Tensor  # (M, 1, 28, 28) normalised, on the device
    test_labels: Tensor  # (M,)
    test_uint8: Tensor  # (M, 28, 28) uint8 on the CPU, for showing a test digit


def lab_data(
    train_subset: int = 6_000,
    test_subset: int = 1_000,
    seed: int = 0,
    dataset: str = "mnist",
    device: torch.device | str | None = None,
    data_dir: str | os.PathLike | None = None,
    loss_sample: int = 1_000,
    download: bool = True,
) -> LabData:
    """Stratified subsets of the training and test sets, on the device once for every twin run."""
    loader = MNISTDataLoader(
        data_dir=data_dir,
        augment=False,
        device=select_device(device),
        dataset=dataset,
        train_subset=train_subset,
        test_subset=test_subset,
        seed=seed,
        download=download,
    )
    train, test = loader.get_data_loaders()
    # The first `loss_sample` digits of the (stratified, shuffled-at-source) subset, un-augmented.
    clean = DeviceBatches(train.images[:loss_sample], train.labels[:loss_sample], 1000, False, False, train.device)
    train_images = torch.cat([x for x, _ in clean])
    test_images = torch.cat([x for x, _ in test])
    return LabData(train, train_images, clean.labels, test_images, test.labels, test.images.cpu())


@dataclass
class TwinCurves:
    steps: list[int] = field(default_factory=list)  # steps done at each training-loss point
    train_loss: list[float] = field(default_factory=list)  # mean loss of the batches since the previous point
    eval_steps: list[int] = field(default_factory=list)  # steps done at each test-accuracy point
    test_accuracy: list[float] = field(default_factory=list)  # percent, on the lab's test digits


@dataclass(frozen=True)
class TwinSnapshot:
    curves: dict[str, TwinCurves]  # "residual" / "plain"
    gradients: dict[str, GradientFlow]
    steps_done: int
    total_steps: int
    seconds: float
    finished: bool
    final: dict[str, dict[str, float]] | None  # per twin: train_loss (clean digits), test_accuracy; None until done


class TwinRun:
    """One residual net and its plain twin (config.arch, config.residual ignored), trained together.

    Everything a live view needs is read with snapshot(), from any thread, while run() goes on.
    """

    def __init__(
        self,
        config: TrainConfig,
        data: LabData,
        report_every: int = 5,
        gradient_every: int = 10,
        evaluations: int = 6,
    ) -> None:
        self.config = config
        self.data = data
        self.report_every = report_every
        self.gradient_every = gradient_every
        self.evaluations = evaluations
        self.device = data.train.device
        # Batches cut from the digits already on the device (no copy), in an order the seed fixes.
        self.batches = DeviceBatches(
            data.train.images, data.train.labels, config.batch_size, True, config.augment, self.device, config.seed
        )
        torch.manual_seed(config.seed)
        residual = build_model(config.arch, stem=config.stem, residual=True)
        plain = build_model(config.arch, stem=config.stem, residual=False)
        # The twins start from the same weights in every layer they share; only the shortcuts
        # (and the residual net's projections) differ.
        shared = plain.state_dict().keys()
        plain.load_state_dict({name: value for name, value in residual.state_dict().items() if name in shared})
        self.nets: dict[str, ResNet] = {"residual": residual, "plain": plain}
        self.total_steps = config.epochs * len(self.batches)
        self._curves = {twin: TwinCurves() for twin in TWINS}
        self._recorders: dict[str, GradientFlowRecorder] = {}
        self._lock = threading.Lock()
        self._steps_done = 0
        self._seconds = 0.0
        self._finished = False
        self._updates = 0  # how often what snapshot() shows has changed
        self._gradients: dict[str, GradientFlow] | None = None  # a restored run's; a live one's recorders have them
        self.final: dict[str, dict[str, float]] | None = None
        self.stopped = False

    @property
    def depth(self) -> int:
        return weighted_depth(self.nets["residual"])

    @property
    def updates(self) -> int:
        """Goes up whenever snapshot() would show something new: a live view redraws only then."""
        return self._updates

    def run(self, stop_event: threading.Event | None = None, on_report: Callable[[], None] | None = None) -> None:
        """Train both twins for config.epochs epochs (until stop_event is set), then measure them."""
        trainers = {twin: ResNetTrainer(net, self.device, self.config) for twin, net in self.nets.items()}
        self._recorders = {twin: GradientFlowRecorder(net, self.gradient_every) for twin, net in self.nets.items()}
        eval_every = self.total_steps // self.evaluations if self.evaluations else 0
        started = time.perf_counter()
        windows = {twin: torch.zeros(2, device=self.device) for twin in TWINS}  # loss sum, images
        step = 0
        with ExitStack() as hooks:  # the gradient hooks come off however training ends
            for twin, trainer in trainers.items():
                trainer.prepare(len(self.batches), [hooks.enter_context(self._recorders[twin])])
            for _ in range(self.config.epochs):
                for x, y in self.batches:
                    if stop_event is not None and stop_event.is_set():
                        self.stopped = True
                        break
                    for twin, trainer in trainers.items():
                        loss, _ = trainer.train_step(x, y)
                        windows[twin][0] += loss * y.numel()
                        windows[twin][1] += y.numel()
                    step += 1
                    if step == 1 or step % self.report_every == 0:  # the first step at once: a slow machine shows life
                        self._report(step, windows, started)
                        if on_report is not None:
                            on_report()
                    if eval_every and (step % eval_every == 0 or step == self.total_steps):
                        self._evaluate(step)
                if self.stopped:
                    break
                for trainer in trainers.values():
                    trainer.end_epoch()
        if step and step % self.report_every:
            self._report(step, windows, started)
        for net in self.nets.values():
            net.eval()
        if step:
            self.final = {
                twin: {
                    "train_loss": evaluate(net, tensor_batches(self.data.train_images, self.data.train_labels)).loss,
                    "test_accuracy": accuracy(net, self.data.test_images, self.data.test_labels),
                }
                for twin, net in self.nets.items()
            }
        with self._lock:
            self._seconds = time.perf_counter() - started
            self._finished = True
            self._updates += 1

    def restore(
        self,
        curves: dict[str, TwinCurves],
        gradients: dict[str, GradientFlow],
        steps_done: int,
        seconds: float,
        final: dict[str, dict[str, float]],
    ) -> None:
        """Make this run the finished one measured earlier (its nets' weights loaded by the caller)."""
        with self._lock:
            self._curves = curves
            self._gradients = gradients
            self._steps_done = steps_done
            self._seconds = seconds
            self.final = final
            self._finished = True
            self._updates += 1

    def _report(self, step: int, windows: dict[str, Tensor], started: float) -> None:
        values = {twin: window.tolist() for twin, window in windows.items()}  # one read-back per report
        for window in windows.values():
            window.zero_()
        with self._lock:
            for twin, (loss_sum, images) in values.items():
                if images:
                    self._curves[twin].steps.append(step)
                    self._curves[twin].train_loss.append(loss_sum / images)
            self._steps_done = step
            self._seconds = time.perf_counter() - started
            self._updates += 1

    def _evaluate(self, step: int) -> None:
        scores = {twin: accuracy(net, self.data.test_images, self.data.test_labels) for twin, net in self.nets.items()}
        with self._lock:
            for twin, score in scores.items():
                self._curves[twin].eval_steps.append(step)
                self._curves[twin].test_accuracy.append(score)
            self._updates += 1

    def snapshot(self) -> TwinSnapshot:
        with self._lock:
            curves = {twin: replace(c, **{k: list(getattr(c, k)) for k in vars(c)}) for twin, c in self._curves.items()}
            return TwinSnapshot(
                curves=curves,
                gradients=self._gradients
                if self._gradients is not None
                else {twin: recorder.result() for twin, recorder in self._recorders.items()},
                steps_done=self._steps_done,
                total_steps=self.total_steps,
                seconds=self._seconds,
                finished=self._finished,
                final=self.final if self._finished else None,
            )


@dataclass(frozen=True)
class SweepPoint:
    arch: str
    depth: int  # weighted layers, 6n+2
    train_loss: dict[str, float]  # per twin, on the lab's un-augmented training digits, after training
    test_accuracy: dict[str, float]  # per twin, percent
    seconds: float


class DepthSweep:
    """Twin runs at several depths, one after another; snapshot() lists the depths finished so far."""

    def __init__(self, archs: Sequence[str], config: TrainConfig, data: LabData) -> None:
        if not archs:
            raise ValueError("Choose at least one depth to sweep.")
        self.archs = list(archs)
        self.config = config
        self.data = data
        self.points: list[SweepPoint] = []
        self.current: TwinRun | None = None
        self.stopped = False
        self._lock = threading.Lock()

    def run(self, stop_event: threading.Event | None = None) -> None:
        for arch in self.archs:
            if stop_event is not None and stop_event.is_set():
                self.stopped = True
                break
            twin_run = TwinRun(replace(self.config, arch=arch), self.data, evaluations=0)
            with self._lock:
                self.current = twin_run
            twin_run.run(stop_event)
            if twin_run.stopped or twin_run.final is None:
                self.stopped = True
                break
            snap = twin_run.snapshot()
            point = SweepPoint(
                arch,
                twin_run.depth,
                {twin: snap.final[twin]["train_loss"] for twin in TWINS},
                {twin: snap.final[twin]["test_accuracy"] for twin in TWINS},
                snap.seconds,
            )
            with self._lock:
                self.points.append(point)
        with self._lock:
            self.current = None

    def snapshot(self) -> tuple[list[SweepPoint], TwinSnapshot | None]:
        """(finished depths, the running depth's live snapshot or None)."""
        with self._lock:
            return list(self.points), self.current.snapshot() if self.current is not None else None


def default_twin_config(arch: str = "resnet20", **overrides) -> TrainConfig:
    """The lab's twin-run settings: one epoch of one-cycle Adam at batch 64, without augmentation."""
    values = dict(arch=arch, epochs=1, batch_size=64, lr=3e-3, scheduler="onecycle", augment=False)
    return TrainConfig(**(values | overrides))
