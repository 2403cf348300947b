"""ResNetTrainer runs a TrainConfig: the loop, its schedule, resuming, and progress reports for live views.

The loop never reads a value off the device per step (a sync that stalls a GPU);
it sums loss and hits on the device and reads them every `report_every` steps.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields, replace
from typing import Protocol

import torch
import torch.distributed as dist
from torch import Tensor, nn

from resnet_core.devices import select_device
from resnet_core.training.config import TrainConfig
from resnet_core.training.evaluation import Evaluation, TestResult, batches_on, evaluate, summarize_test
from resnet_core.training.precision import autocast, describe_precision, uses_bf16


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite."""


@dataclass(frozen=True)
class StepProgress:
    epoch: int  # 1-based
    step: int  # steps done in this epoch
    steps_per_epoch: int
    loss: float  # mean training loss since the previous report
    accuracy: float  # training accuracy in percent since the previous report
    lr: float  # the latest step's learning rate
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


class StepCallback(Protocol):
    """Called around every training step; `step` counts steps from 0 over the whole run.

    before_step runs before the forward pass (to arm hooks for this step), after_backward
    once the gradients are in the parameters and before the optimiser uses them.
    """

    def before_step(self, step: int) -> None: ...

    def after_backward(self, step: int) -> None: ...


@dataclass(frozen=True)
class ValidationCheck:
    """One validation pass: after every epoch, and config.checks_per_epoch - 1 more times within each."""

    epochs: float  # epochs trained when it was measured: 0.2, 0.4, ..., 1.0, ...
    val_loss: float
    val_acc: float  # percent
    seconds: float  # training time of the run so far (the validations themselves not counted)


HISTORY_KEYS = tuple(f.name for f in fields(EpochStats))


def new_history() -> dict[str, list]:
    """Per-epoch lists named as EpochStats' fields: epoch, train_loss, train_acc (%), val_loss, val_acc (%), ..."""
    return {key: [] for key in HISTORY_KEYS}


def _make_scheduler(optimizer: torch.optim.Optimizer, config: TrainConfig, steps_per_epoch: int):
    """(scheduler, how often it steps: "step" or "epoch") for config.scheduler."""
    if config.scheduler == "step":
        return torch.optim.lr_scheduler.StepLR(optimizer, step_size=config.step_size, gamma=config.gamma), "epoch"
    if config.scheduler == "onecycle":
        total = config.epochs * steps_per_epoch
        return torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=config.lr, total_steps=total), "step"
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda _: 1.0), "epoch"


def _data_generator(loader) -> torch.Generator | None:
    # resnet_core's loaders shuffle and augment with one generator; resuming restores it.
    generator = getattr(loader, "generator", None)
    return generator if isinstance(generator, torch.Generator) else None


class ResNetTrainer:
    """Adam + cross-entropy training of a model on one device (or one DDP rank), as a TrainConfig says.

    trainer = ResNetTrainer(model, device="cpu")          # the classic recipe, TrainConfig()'s defaults
    history = trainer.train(train_loader, val_loader, num_epochs=10, learning_rate=1e-3, weight_decay=1e-4)
    trainer = ResNetTrainer(model, config=recipe("fast", epochs=5))
    history = trainer.train(train_loader, val_loader)
    result = trainer.test(test_loader)
    """

    def __init__(
        self,
        model: nn.Module,
        device: torch.device | str | None = None,
        config: TrainConfig | None = None,
        channels_last: bool | None = None,
    ) -> None:
        self.config = config if config is not None else TrainConfig()
        self.device = select_device(device if device is not None else self.config.device)
        # None: channels-last everywhere. On CUDA it feeds the tensor cores; on the CPUs measured it trained the
        # depth family's nets 1.1-1.5x faster and ResNet-18 within 10% either way
        # (docs/benchmarks.md, "Where a small net's training step goes").
        self.channels_last = True if channels_last is None else channels_last
        memory_format = torch.channels_last if self.channels_last else torch.contiguous_format
        self.model = model.to(self.device, memory_format=memory_format)
        self.bf16 = uses_bf16(self.config.precision, self.device)
        self.history = new_history()
        self.optimizer: torch.optim.Optimizer | None = None
        self.scheduler = None
        self.schedule_unit = "epoch"
        self.data_generator: torch.Generator | None = None  # the training loader's, if it has one
        self.stopped = False
        self.callbacks: Sequence[StepCallback] = ()
        self.global_step = 0  # training steps taken by this trainer
        self.criterion: nn.Module = nn.CrossEntropyLoss()
        self.last_evaluation: Evaluation | None = None  # of val_loader after the latest epoch
        self.checks: list[ValidationCheck] = []  # every validation pass of this trainer's runs
        self.distributed = dist.is_available() and dist.is_initialized()
        self.step_model: nn.Module = self.model
        if self.distributed:
            device_ids = [self.device.index] if self.device.type == "cuda" else None
            self.step_model = nn.parallel.DistributedDataParallel(self.model, device_ids=device_ids)

    @property
    def precision(self) -> str:
        """The arithmetic, in words: "fp32 (auto: bf16 is used on a CUDA GPU only)"."""
        return describe_precision(self.config.precision, self.device)

    @property
    def epochs_done(self) -> int:
        return sum(self.history["complete"])

    def training_state(self) -> dict:
        """Optimiser, schedule, history and the data order's random state: what a checkpoint needs to resume."""
        return {
            "optimizer": self.optimizer.state_dict() if self.optimizer else None,
            "scheduler": self.scheduler.state_dict() if self.scheduler else None,
            "history": self.history,
            "data_generator": self.data_generator.get_state() if self.data_generator is not None else None,
        }

    def train(
        self,
        train_loader,
        val_loader=None,
        num_epochs: int | None = None,
        learning_rate: float | None = None,
        weight_decay: float | None = None,
        *,
        on_step: Callable[[StepProgress], None] | None = None,
        on_epoch: Callable[[EpochStats], None] | None = None,
        stop_event: threading.Event | None = None,
        report_every: int = 20,
        resume_state: dict | None = None,
        callbacks: Sequence[StepCallback] = (),
        on_check: Callable[[ValidationCheck], None] | None = None,
    ) -> dict[str, list]:
        """Train to config.epochs epochs in all (counting resumed ones); returns the history.

        num_epochs, learning_rate and weight_decay, where given, replace the config's epochs,
        lr and weight_decay. on_step gets a StepProgress after the first step and every `report_every` steps; on_epoch
        an EpochStats after each epoch; on_check a ValidationCheck after each validation pass (config.checks_per_epoch
        per epoch, the last at its end). Setting `stop_event` ends training before the next
        step; the weights so far are kept and the cut epoch is recorded with complete=False.
        resume_state: a checkpoint's training_state, to go on where that run ended.
        callbacks: StepCallbacks called around every step (e.g. gradient_flow.GradientFlowRecorder).
        Raises TrainingDiverged if the loss stops being finite.
        """
        given = {"epochs": num_epochs, "lr": learning_rate, "weight_decay": weight_decay}
        config = self.config = replace(self.config, **{k: v for k, v in given.items() if v is not None})
        steps_per_epoch = len(train_loader)
        self.prepare(steps_per_epoch, callbacks)
        self.data_generator = _data_generator(train_loader)
        if resume_state:
            self._resume(resume_state, steps_per_epoch)
        self.stopped = False
        validate = self._validator(val_loader, on_check)
        for epoch in range(self.epochs_done + 1, config.epochs + 1):
            stats = self._train_epoch(epoch, train_loader, on_step, stop_event, report_every, validate)
            if stats is None:  # stopped before the first step of this epoch
                break
            if val_loader is not None:
                trained = sum(self.history["seconds"]) + stats.seconds
                done = epoch - 1 + (1.0 if stats.complete else 0.5)
                evaluation = validate(done, trained)
                stats = replace(stats, val_loss=evaluation.loss, val_acc=evaluation.accuracy)
                self.last_evaluation = evaluation
            for key in HISTORY_KEYS:
                self.history[key].append(getattr(stats, key))
            if on_epoch is not None:
                on_epoch(stats)
            if self.stopped:
                break
        return self.history

    def _validator(self, val_loader, on_check) -> Callable[[float, float], Evaluation] | None:
        """validate(epochs trained, training seconds so far): one pass over val_loader, recorded as a check."""
        if val_loader is None:
            return None

        def validate(epochs: float, seconds: float) -> Evaluation:
            evaluation = evaluate(self.model, val_loader, self.device, self.bf16, self.channels_last)
            check = ValidationCheck(epochs, evaluation.loss, evaluation.accuracy, seconds)
            self.checks.append(check)
            if on_check is not None:
                on_check(check)
            return evaluation

        return validate

    def prepare(self, steps_per_epoch: int, callbacks: Sequence[StepCallback] = ()) -> None:
        """Optimiser, schedule, loss and callbacks for a run of config.epochs epochs of `steps_per_epoch`.

        train() calls it; call it yourself to drive the run one train_step at a time (and end_epoch()
        after each epoch). Puts the model in training mode.
        """
        if steps_per_epoch == 0:
            raise ValueError("The training loader yields no batches: is the training set empty?")
        config = self.config
        # The fused CUDA kernel updates every parameter in one launch instead of several per tensor.
        fused = True if self.device.type == "cuda" else None
        self.optimizer = torch.optim.Adam(
            self.model.parameters(), lr=config.lr, weight_decay=config.weight_decay, fused=fused
        )
        self.scheduler, self.schedule_unit = _make_scheduler(self.optimizer, config, steps_per_epoch)
        self.criterion = nn.CrossEntropyLoss(label_smoothing=config.label_smoothing)
        self.callbacks = tuple(callbacks)
        self.model.train()

    def train_step(self, x: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
        """One optimiser step on a batch already on the device: (loss, logits), both still on the device.

        Moves a per-step schedule on; a per-epoch one is moved by train() at the end of an epoch.
        """
        step = self.global_step
        for callback in self.callbacks:
            callback.before_step(step)
        self.optimizer.zero_grad(set_to_none=True)
        with autocast(self.device, self.bf16):
            logits = self.step_model(x)
        loss = self.criterion(logits.float(), y)
        loss.backward()
        for callback in self.callbacks:
            callback.after_backward(step)
        self.optimizer.step()
        if self.schedule_unit == "step":
            self.scheduler.step()
        self.global_step += 1
        return loss.detach(), logits.detach()

    def end_epoch(self) -> None:
        """Move a per-epoch schedule on; a per-step one moves in train_step."""
        if self.schedule_unit == "epoch":
            self.scheduler.step()

    def _resume(self, state: dict, steps_per_epoch: int) -> None:
        planned = (state.get("scheduler") or {}).get("total_steps")
        wanted = self.config.epochs * steps_per_epoch
        if self.config.scheduler == "onecycle" and planned is not None and planned != wanted:
            # OneCycle warms up and anneals once over a planned length: stretched, it would
            # step past its end (PyTorch refuses), and rebuilt, its rate would jump back up.
            started_with = f"{planned // steps_per_epoch} epochs" if planned % steps_per_epoch == 0 else "other"
            raise ValueError(
                f"Cannot resume: this run's onecycle schedule was planned for {planned:,} steps ({started_with} "
                f"at this batch size), and {self.config.epochs} epochs are {wanted:,}. A one-cycle schedule "
                "cannot be lengthened: resume with the epochs and batch size it started with to finish it, "
                "or start a new run with more epochs."
            )
        try:
            self.optimizer.load_state_dict(state["optimizer"])
            self.scheduler.load_state_dict(state["scheduler"])
            self.history = {k: list(v) for k, v in state["history"].items()}
            if self.data_generator is not None and state.get("data_generator") is not None:
                self.data_generator.set_state(state["data_generator"])  # the next epoch's order and augmentation
        except (KeyError, TypeError, ValueError, AttributeError, IndexError, RuntimeError) as err:
            raise ValueError(
                "Cannot resume: the saved optimiser, schedule or history does not fit this run "
                f"({type(err).__name__}: {err}). Start a new run instead of --resume."
            ) from None

    def _train_epoch(self, epoch, loader, on_step, stop_event, report_every, validate=None) -> EpochStats | None:
        self.model.train()
        steps_per_epoch = len(loader)
        totals = torch.zeros(3, device=self.device)  # loss sum, correct, images
        window = torch.zeros(3, device=self.device)
        started = window_started = time.perf_counter()
        steps = 0
        # Validations within the epoch (the one at its end is train()'s), their time not counted as training.
        check_every = -(-steps_per_epoch // self.config.checks_per_epoch) if validate is not None else 0
        paused = 0.0
        for x, y in batches_on(self.device, loader, self.channels_last):
            if stop_event is not None and stop_event.is_set():
                self.stopped = True
                break
            step_lr = self.optimizer.param_groups[0]["lr"]  # before the schedule moves it on
            loss, logits = self.train_step(x, y)
            steps += 1
            with torch.no_grad():
                # Summed on the device, read once per report. A scalar added in place is a kernel
                # argument; torch.tensor(..., device=cuda) would be a copy the CPU waits for.
                window[0] += loss * y.numel()
                window[1] += (logits.argmax(1) == y).sum()
                window[2] += y.numel()
            # Step 1 of the run is reported too: a page watching the run shows it started, not "starting…".
            if steps % report_every == 0 or steps == steps_per_epoch or (epoch == 1 and steps == 1):
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
                            step_lr,
                            images / max(now - window_started, 1e-9),
                        )
                    )
                totals += window
                window.zero_()
                window_started = now
            if check_every and steps % check_every == 0 and steps < steps_per_epoch:
                pause_started = time.perf_counter()
                trained = sum(self.history["seconds"]) + pause_started - started - paused
                validate(epoch - 1 + steps / steps_per_epoch, trained)
                pause = time.perf_counter() - pause_started
                paused += pause
                window_started += pause
        if steps == 0:
            return None
        totals += window
        if self.distributed:
            dist.all_reduce(totals)
        loss_sum, correct, images = totals.tolist()
        self._check_finite(loss_sum, epoch, steps)
        seconds = time.perf_counter() - started - paused
        if not self.stopped:
            self.end_epoch()
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
        return summarize_test(evaluate(self.model, loader, self.device, self.bf16, self.channels_last))
