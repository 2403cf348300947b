"""One training run from a TrainConfig: data, model, trainer and final test, shared by the CLI and the app."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

import torch

from resnet_core.data.datasets import DeviceBatches, MNISTDataLoader
from resnet_core.devices import select_device
from resnet_core.networks.resnet import ResNet, build_model
from resnet_core.training.config import TrainConfig
from resnet_core.training.evaluation import TestResult
from resnet_core.training.trainer import EpochStats, ResNetTrainer, StepProgress, ValidationCheck

if TYPE_CHECKING:
    from resnet_core.files.checkpoints import Checkpoint


@dataclass
class RunResult:
    model: ResNet
    config: TrainConfig
    history: dict[str, list]
    test: TestResult | None  # None when stopped before the first step
    stopped: bool
    trainer: ResNetTrainer


class Loaders(NamedTuple):
    train: DeviceBatches
    validation: DeviceBatches | None  # held-out training digits; None when config.validation_size is 0
    test: DeviceBatches


def make_loaders(
    config: TrainConfig, data_dir: str | os.PathLike | None = None, device: torch.device | None = None
) -> Loaders:
    loader = MNISTDataLoader(
        batch_size=config.batch_size,
        data_dir=data_dir,
        augment=config.augment,
        device=device or select_device(config.device),
        dataset=config.dataset,
        train_subset=config.train_subset,
        test_subset=config.test_subset,
        seed=config.seed,
        validation_size=config.validation_size,
    )
    validation = loader.get_validation_loader() if config.validation_size else None
    return Loaders(loader.get_train_loader(), validation, loader.get_test_loader())


def new_model(config: TrainConfig) -> ResNet:
    """The freshly initialised network that `config` describes."""
    return build_model(
        config.arch, stem=config.stem, residual=config.residual, zero_init_residual=config.zero_init_residual
    )


def run_training(
    config: TrainConfig,
    data_dir: str | os.PathLike | None = None,
    on_step: Callable[[StepProgress], None] | None = None,
    on_epoch: Callable[[EpochStats, ResNetTrainer], None] | None = None,
    stop_event: threading.Event | None = None,
    resume: Checkpoint | None = None,  # noqa: F821 (a resnet_core.files.checkpoints.Checkpoint)
    loaders: Loaders | None = None,
    rank: int = 0,
    world_size: int = 1,
    report_every: int = 20,
    on_check: Callable[[ValidationCheck], None] | None = None,
) -> RunResult:
    """Train `config.arch` as `config` says, validating on held-out training digits after each
    epoch, then test it once on the (subset of the) test set.

    on_epoch gets the trainer as well, so a caller can checkpoint after every epoch; on_check each
    validation pass (config.checks_per_epoch per epoch).
    With world_size > 1 (inside an initialised process group) each rank trains on its shard.
    """
    device = select_device(config.device)
    if device.type == "cuda" and world_size > 1:
        device = torch.device("cuda", rank % torch.cuda.device_count())
        torch.cuda.set_device(device)
    train_loader, validation_loader, test_loader = loaders or make_loaders(config, data_dir, device)
    train_loader.shard(rank, world_size)
    torch.manual_seed(config.seed)
    model = resume.model if resume is not None else new_model(config)
    trainer = ResNetTrainer(model, device=device, config=config)
    history = trainer.train(
        train_loader,
        validation_loader,
        on_step=on_step,
        on_epoch=(lambda stats: on_epoch(stats, trainer)) if on_epoch else None,
        stop_event=stop_event,
        resume_state=resume.training_state if resume is not None else None,
        report_every=report_every,
        on_check=on_check,
    )
    # The test set's one use: the model as it ended, also after a Stop (unless no step was taken).
    test = trainer.test(test_loader) if trainer.history["epoch"] else None
    return RunResult(trainer.model, config, history, test, trainer.stopped, trainer)
