"""Training and evaluation: TrainConfig, ResNetTrainer, evaluate(), and callbacks for live progress.

The loop never reads a value off the device per step (a sync that stalls a GPU);
it sums loss and hits on the device and reads them every `report_every` steps.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field, fields, replace

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import Tensor, nn

from resnet_core.data import DATASETS
from resnet_core.devices import select_device
from resnet_core.models import ARCHITECTURES, STEMS, check_zero_init
from resnet_core.precision import Precision, autocast, choose_precision

SCHEDULERS = ("step", "onecycle", "constant")


@dataclass
class TrainConfig:
    """Everything that decides a training run; stored in every checkpoint."""

    arch: str = "resnet18"  # a name from ARCHITECTURES
    stem: str = "mnist"  # a name from STEMS: "mnist" (the spec's 7x7/2 + max-pool), "medium" or "small"
    residual: bool = True  # False removes every skip connection (the paper's plain net)
    zero_init_residual: bool = False  # every block starts as the identity (its last BN scale at 0)
    dataset: str = "mnist"  # "mnist" or "fashion-mnist"
    epochs: int = 10  # passes over the training set
    batch_size: int = 128  # images per optimiser step
    lr: float = 1e-3  # Adam step size (the peak for onecycle)
    weight_decay: float = 1e-4  # L2 penalty Adam adds to the gradient
    scheduler: str = "step"  # "step": x gamma every step_size epochs; "onecycle"; "constant"
    step_size: int = 7  # epochs between "step" decays
    gamma: float = 0.1  # "step" decay factor
    label_smoothing: float = 0.0  # share of the target spread over the other classes
    augment: bool = True  # random rotation +-10 degrees and translation +-10%
    train_subset: int | None = None  # stratified training digits; None = all 60,000
    test_subset: int | None = None  # stratified test digits; None = all 10,000
    seed: int = 0  # seeds weights, shuffling, augmentation and subsets
    device: str = "auto"  # "auto" (cuda, mps, cpu), "cpu", "cuda", "cuda:1", "mps"
    mixed_precision: bool = True  # bf16 autocast where it is faster: CUDA, some CPUs (resnet_core.precision)

    def __post_init__(self) -> None:
        # Checked here, not when used: a checkpoint's stored config names the classes the app shows.
        for name, known in (("arch", ARCHITECTURES), ("stem", STEMS), ("dataset", DATASETS)):
            if getattr(self, name) not in known:
                raise ValueError(f"Unknown {name} {getattr(self, name)!r}: choose one of {', '.join(known)}.")
        if self.scheduler not in SCHEDULERS:
            raise ValueError(f"Unknown scheduler {self.scheduler!r}: choose one of {', '.join(SCHEDULERS)}.")
        for name in ("epochs", "batch_size", "step_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}.")
        if not (self.lr > 0 and math.isfinite(self.lr)):
            raise ValueError(f"lr must be a positive number, got {self.lr}.")
        if self.weight_decay < 0:
            raise ValueError(f"weight_decay must be 0 or more, got {self.weight_decay}.")
        if not 0 <= self.label_smoothing < 1:
            raise ValueError(f"label_smoothing must be in [0, 1), got {self.label_smoothing}.")
        check_zero_init(self.residual, self.zero_init_residual)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> TrainConfig:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in known})


RECIPES: dict[str, TrainConfig] = {
    # The spec's recipe: Adam 1e-3, wd 1e-4, batch 128, StepLR(7, 0.1), 10 epochs.
    "spec": TrainConfig(),
    # One epoch of OneCycle (warm-up to 3e-3, then anneal) with label smoothing: on the
    # 2-core CPU measured it passed 99.0% on the full test set in one epoch (99.12%),
    # where the spec recipe needs three. --epochs 2 gave 99.33%.
    "fast": TrainConfig(epochs=1, batch_size=128, lr=3e-3, scheduler="onecycle", label_smoothing=0.1),
}


def recipe(name: str, **overrides) -> TrainConfig:
    if name not in RECIPES:
        raise ValueError(f"Unknown recipe {name!r}: choose one of {', '.join(RECIPES)}.")
    return replace(RECIPES[name], **overrides)


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite."""


@dataclass(frozen=True)
class StepProgress:
    epoch: int  # 1-based
    step: int  # steps done in this epoch
    steps_per_epoch: int
    loss: float  # mean training loss since the previous report
    accuracy: float  # training accuracy in percent since the previous report
    lr: float
    images_per_second: float  # since the previous report


@dataclass(frozen=True)
class EpochStats:
    epoch: int
    train_loss: float
    train_acc: float  # percent
    val_loss: float | None
    val_acc: float | None  # percent
    lr: float  # at the end of the epoch
    seconds: float  # wall time of the training steps
    images_per_second: float
    train_images: int  # images trained on this epoch, all processes together
    complete: bool = True  # False when a stop request cut the epoch short


HISTORY_KEYS = tuple(f.name for f in fields(EpochStats))


def new_history() -> dict[str, list]:
    """Per-epoch lists named as EpochStats' fields: epoch, train_loss, train_acc (%), val_loss, val_acc (%), ..."""
    return {key: [] for key in HISTORY_KEYS}


@dataclass
class Evaluation:
    loss: float
    accuracy: float  # percent
    predictions: Tensor  # (N,) int64, CPU, in loader order
    labels: Tensor  # (N,) int64, CPU


@dataclass
class TestResult:
    accuracy: float  # percent
    loss: float
    per_class_accuracy: list[float]  # percent, index = class
    confusion_matrix: list[list[int]]  # [true][predicted]
    misclassified: list[int]  # positions in the loader's order
    predictions: list[int] = field(repr=False)
    labels: list[int] = field(repr=False)


def _batches(loader: Iterable, device: torch.device, channels_last: bool):
    for x, y in loader:
        x = x.to(device, non_blocking=True)
        if channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        yield x, y.to(device, non_blocking=True)


@torch.no_grad()
def evaluate(
    model: nn.Module,
    loader: Iterable,
    device: torch.device | str | None = None,
    mixed_precision: bool = False,
    channels_last: bool = False,
) -> Evaluation:
    """Loss and accuracy of `model` over every batch of `loader`, in eval mode; restores the mode after.

    mixed_precision: bf16 autocast (what a trainer that chose it passes; off by default).
    """
    device = select_device(device) if device is not None else next(model.parameters()).device
    was_training = model.training
    model.eval()
    loss_sum = torch.zeros((), device=device)
    predictions, labels = [], []
    try:
        for x, y in _batches(loader, device, channels_last):
            with autocast(device, mixed_precision):
                logits = model(x)
            loss_sum += F.cross_entropy(logits.float(), y, reduction="sum")
            predictions.append(logits.argmax(1))
            labels.append(y)
    finally:
        model.train(was_training)
    if not labels:
        raise ValueError("The evaluation loader yielded no batches.")
    predictions_t, labels_t = torch.cat(predictions).cpu(), torch.cat(labels).cpu()
    n = labels_t.numel()
    return Evaluation(
        loss=loss_sum.item() / n,
        accuracy=100.0 * (predictions_t == labels_t).sum().item() / n,
        predictions=predictions_t,
        labels=labels_t,
    )


def summarize_test(evaluation: Evaluation, num_classes: int = 10) -> TestResult:
    """Per-class accuracy, confusion matrix and misclassified positions from an evaluation."""
    preds, labels = evaluation.predictions, evaluation.labels
    confusion = torch.zeros(num_classes, num_classes, dtype=torch.long)
    confusion.index_put_((labels, preds), torch.ones_like(labels), accumulate=True)
    per_class_total = confusion.sum(1).clamp(min=1)
    per_class = (100.0 * confusion.diag() / per_class_total).tolist()
    return TestResult(
        accuracy=evaluation.accuracy,
        loss=evaluation.loss,
        per_class_accuracy=per_class,
        confusion_matrix=confusion.tolist(),
        misclassified=(preds != labels).nonzero().flatten().tolist(),
        predictions=preds.tolist(),
        labels=labels.tolist(),
    )


def _make_scheduler(optimizer, name: str, epochs: int, steps_per_epoch: int, lr: float, step_size: int, gamma: float):
    """Returns (scheduler, steps per scheduler.step(): "step" or "epoch")."""
    if name == "step":
        return torch.optim.lr_scheduler.StepLR(optimizer, step_size=step_size, gamma=gamma), "epoch"
    if name == "onecycle":
        return (
            torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=epochs * steps_per_epoch),
            "step",
        )
    if name == "constant":
        return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda _: 1.0), "epoch"
    raise ValueError(f"Unknown scheduler {name!r}: choose one of {', '.join(SCHEDULERS)}.")


class ResNetTrainer:
    """Adam + cross-entropy training of a model on one device (or one DDP rank).

    trainer = ResNetTrainer(model, device="cpu")
    history = trainer.train(train_loader, val_loader, num_epochs=10, learning_rate=1e-3, weight_decay=1e-4)
    result = trainer.test(test_loader)
    """

    def __init__(
        self,
        model: nn.Module,
        device: torch.device | str | None = None,
        mixed_precision: bool = True,
        channels_last: bool | None = None,
    ) -> None:
        self.device = select_device(device)
        # None: only on CUDA, where it feeds the tensor cores; on the CPUs measured it was ~4% slower.
        self.channels_last = self.device.type == "cuda" if channels_last is None else channels_last
        memory_format = torch.channels_last if self.channels_last else torch.contiguous_format
        self.model = model.to(self.device, memory_format=memory_format)
        self.mixed_precision = mixed_precision  # asked for; train() chooses where it is faster
        # train() settles it (a CPU may need a probe); until then only CUDA computes in bf16.
        self.precision = Precision(mixed_precision and self.device.type == "cuda", "not chosen yet: no training run")
        self.history = new_history()
        self.optimizer: torch.optim.Optimizer | None = None
        self.scheduler = None
        self.stopped = False
        self.last_evaluation: Evaluation | None = None  # of val_loader after the latest epoch
        self.distributed = dist.is_available() and dist.is_initialized()
        self.step_model: nn.Module = self.model
        if self.distributed:
            device_ids = [self.device.index] if self.device.type == "cuda" else None
            self.step_model = nn.parallel.DistributedDataParallel(self.model, device_ids=device_ids)

    @property
    def epochs_done(self) -> int:
        return sum(self.history["complete"])

    def training_state(self) -> dict:
        """Optimiser, scheduler and history: what a checkpoint needs to resume."""
        return {
            "optimizer": self.optimizer.state_dict() if self.optimizer else None,
            "scheduler": self.scheduler.state_dict() if self.scheduler else None,
            "history": self.history,
        }

    def train(
        self,
        train_loader,
        val_loader=None,
        num_epochs: int = 10,
        learning_rate: float = 1e-3,
        weight_decay: float = 1e-4,
        scheduler: str = "step",
        label_smoothing: float = 0.0,
        step_size: int = 7,
        gamma: float = 0.1,
        on_step: Callable[[StepProgress], None] | None = None,
        on_epoch: Callable[[EpochStats], None] | None = None,
        stop_event: threading.Event | None = None,
        report_every: int = 20,
        resume_state: dict | None = None,
    ) -> dict[str, list]:
        """Train to `num_epochs` epochs in all (counting resumed ones); returns the history.

        on_step gets a StepProgress every `report_every` steps; on_epoch an EpochStats after
        each epoch. Setting `stop_event` ends training before the next step; the weights
        so far are kept and the cut epoch is recorded with complete=False.
        Raises TrainingDiverged if the loss stops being finite.
        """
        steps_per_epoch = len(train_loader)
        if steps_per_epoch == 0:
            raise ValueError("The training loader yields no batches: is the training set empty?")
        # The fused CUDA kernel updates every parameter in one launch instead of several per tensor.
        fused = True if self.device.type == "cuda" else None
        self.optimizer = torch.optim.Adam(
            self.model.parameters(), lr=learning_rate, weight_decay=weight_decay, fused=fused
        )
        self.scheduler, schedule_unit = _make_scheduler(
            self.optimizer, scheduler, num_epochs, steps_per_epoch, learning_rate, step_size, gamma
        )
        if resume_state:
            try:
                self.optimizer.load_state_dict(resume_state["optimizer"])
                self.scheduler.load_state_dict(resume_state["scheduler"])
                self.history = {k: list(v) for k, v in resume_state["history"].items()}
            except (KeyError, TypeError, ValueError, AttributeError, IndexError) as err:
                raise ValueError(
                    "Cannot resume: the saved optimiser, schedule or history does not fit this run "
                    f"({type(err).__name__}: {err}). Start a new run instead of --resume."
                ) from None
        self.precision = self._choose_precision(train_loader, (num_epochs - self.epochs_done) * steps_per_epoch)
        self.stopped = False
        criterion = nn.CrossEntropyLoss(label_smoothing=label_smoothing)
        for epoch in range(self.epochs_done + 1, num_epochs + 1):
            stats = self._train_epoch(
                epoch, train_loader, steps_per_epoch, criterion, schedule_unit, on_step, stop_event, report_every
            )
            if stats is None:  # stopped before the first step of this epoch
                break
            if val_loader is not None:
                evaluation = evaluate(self.model, val_loader, self.device, self.precision.bf16, self.channels_last)
                stats = replace(stats, val_loss=evaluation.loss, val_acc=evaluation.accuracy)
                self.last_evaluation = evaluation
            for key in HISTORY_KEYS:
                self.history[key].append(getattr(stats, key))
            if on_epoch is not None:
                on_epoch(stats)
            if self.stopped:
                break
        return self.history

    def _choose_precision(self, train_loader, steps_left: int) -> Precision:
        return choose_precision(
            self.model,
            self.device,
            self.mixed_precision,
            batch_size=getattr(train_loader, "batch_size", None) or 128,
            channels_last=self.channels_last,
            steps=steps_left,
            processes=dist.get_world_size() if self.distributed else 1,
        )

    def _train_epoch(
        self, epoch, loader, steps_per_epoch, criterion, schedule_unit, on_step, stop_event, report_every
    ) -> EpochStats | None:
        self.model.train()
        totals = torch.zeros(3, device=self.device)  # loss sum, correct, images
        window = torch.zeros(3, device=self.device)
        started = window_started = time.perf_counter()
        steps = 0
        for x, y in _batches(loader, self.device, self.channels_last):
            if stop_event is not None and stop_event.is_set():
                self.stopped = True
                break
            self.optimizer.zero_grad(set_to_none=True)
            with autocast(self.device, self.precision.bf16):
                logits = self.step_model(x)
            loss = criterion(logits.float(), y)
            loss.backward()
            self.optimizer.step()
            if schedule_unit == "step":
                self.scheduler.step()
            steps += 1
            with torch.no_grad():
                window[:2] += torch.stack([loss.detach() * y.numel(), (logits.argmax(1) == y).sum().float()])
                # A scalar added in place is a kernel argument; torch.tensor(..., device=cuda)
                # would be a host-to-device copy, which can make the CPU wait for the GPU every step.
                window[2] += y.numel()
            if steps % report_every == 0 or steps == steps_per_epoch:
                loss_sum, correct, images = window.tolist()  # the one sync per report
                self._check_finite(loss_sum, epoch, steps)
                now = time.perf_counter()
                if on_step is not None:
                    on_step(
                        StepProgress(
                            epoch,
                            steps,
                            steps_per_epoch,
                            loss_sum / images,
                            100.0 * correct / images,
                            self.optimizer.param_groups[0]["lr"],
                            images / max(now - window_started, 1e-9),
                        )
                    )
                totals += window
                window.zero_()
                window_started = now
        if steps == 0:
            return None
        totals += window
        if self.distributed:
            dist.all_reduce(totals)
        loss_sum, correct, images = totals.tolist()
        self._check_finite(loss_sum, epoch, steps)
        seconds = time.perf_counter() - started
        if schedule_unit == "epoch" and not self.stopped:
            self.scheduler.step()
        return EpochStats(
            epoch=epoch,
            train_loss=loss_sum / images,
            train_acc=100.0 * correct / images,
            val_loss=None,
            val_acc=None,
            lr=self.optimizer.param_groups[0]["lr"],
            seconds=seconds,
            images_per_second=images / seconds,
            train_images=int(images),
            complete=not self.stopped,
        )

    def _check_finite(self, loss_sum: float, epoch: int, step: int) -> None:
        if not math.isfinite(loss_sum):
            lr = self.optimizer.param_groups[0]["lr"]
            raise TrainingDiverged(
                f"Training diverged: the loss became {loss_sum} in epoch {epoch} near step {step}. "
                f"The learning rate ({lr:g}) is likely too high; try {lr / 10:g}."
            )

    def test(self, loader) -> TestResult:
        """Accuracy, loss, per-class accuracy, confusion matrix and misclassified positions over `loader`."""
        return summarize_test(evaluate(self.model, loader, self.device, self.precision.bf16, self.channels_last))
