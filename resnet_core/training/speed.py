"""How long a training run takes on this machine: its training speed measured here, then arithmetic.

    speed = measure_speed(config)                 # images/s training and testing, a few real steps
    seconds = estimate_run_seconds(config, speed) # training + validation + the final test

The speed depends on the network, its stem, the batch size, the arithmetic and the machine,
so it is measured, never looked up: a teacher's laptop and a GPU server differ tenfold.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch

from resnet_core.data.augment import normalize
from resnet_core.data.datasets import DATASETS
from resnet_core.devices import select_device
from resnet_core.training.config import TrainConfig
from resnet_core.training.runner import new_model
from resnet_core.training.trainer import ResNetTrainer

TRAINING_SET_SIZE = 60_000
TEST_SET_SIZE = 10_000
TEST_WARMUP = 8  # test-mode passes before timing


@dataclass(frozen=True)
class Speed:
    training: float  # images/s through forward, backward and the optimiser step
    testing: float  # images/s through the network in test mode (forward only)


def measure_speed(config: TrainConfig, steps: int = 5, warmup: int = 2) -> Speed:
    """Training and testing speed of `config`'s network on its device: `steps` timed batches of each.

    The steps run on random images of the configured batch size (speed does not depend on the
    pixels), augmented as the run's loader would; warm-up steps first, since the first steps also allocate and pick kernels. Test mode
    takes other kernels and warms up over about six passes (measured with ResNet-20 on the CPU);
    those passes cost little next to a training step.
    """
    if steps < 1:
        raise ValueError(f"steps must be at least 1, got {steps}.")
    device = select_device(config.device)
    generator = torch.Generator().manual_seed(0)
    trainer = ResNetTrainer(new_model(config), device=device, config=config)
    trainer.prepare(steps_per_epoch=warmup + steps)
    x = torch.randn(config.batch_size, 1, 28, 28, generator=generator).to(device)
    y = torch.randint(0, len(DATASETS[config.dataset].classes), (config.batch_size,), generator=generator).to(device)
    for _ in range(warmup):
        trainer.train_step(x, y)
    _synchronize(device)
    training = _images_per_second(lambda: trainer.train_step(x, y), steps, config.batch_size, device)
    model = trainer.model.eval()
    with torch.inference_mode():
        for _ in range(TEST_WARMUP):
            model(normalize(x))
        testing = _images_per_second(lambda: model(normalize(x)), steps, config.batch_size, device)
    return Speed(training, testing)


def _images_per_second(step, steps: int, batch_size: int, device: torch.device) -> float:
    _synchronize(device)
    started = time.perf_counter()
    for _ in range(steps):
        step()
    _synchronize(device)
    return steps * batch_size / (time.perf_counter() - started)


def run_sizes(config: TrainConfig) -> tuple[int, int, int]:
    """(training, validation, test) images of one run of `config`."""
    train = config.train_subset or TRAINING_SET_SIZE - config.validation_size
    return train, config.validation_size, config.test_subset or TEST_SET_SIZE


def estimate_run_seconds(config: TrainConfig, speed: Speed) -> float:
    """Seconds a run of `config` takes at a measured speed: every epoch's training and validation checks,
    and the one test at the end."""
    if speed.training <= 0 or speed.testing <= 0:
        raise ValueError(f"Speeds must be positive, got {speed}.")
    train, validation, test = run_sizes(config)
    validations = config.epochs * config.checks_per_epoch * validation
    return config.epochs * train / speed.training + (validations + test) / speed.testing


def _synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)
