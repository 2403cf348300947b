"""The Train page's settings: their options, their defaults, and the same settings taken from a past run.

Each widget has a key and no default of its own: the defaults are put in session state first,
so that "Repeat this run" (Runs page) can put a past run's settings there instead.
"""

from __future__ import annotations

import torch

from resnet_core.networks.resnet import ARCHITECTURES, STEMS
from resnet_core.training.config import TrainConfig
from ui.training.lengths import CUSTOM

DEVICES = ["auto", "cpu"] + (["cuda"] if torch.cuda.is_available() else [])
BATCH_SIZES = [32, 64, 128, 256, 512]
LEARNING_RATES = [1e-4, 3e-4, 1e-3, 2e-3, 3e-3, 1e-2]
WEIGHT_DECAYS = [0.0, 1e-5, 1e-4, 1e-3]
DIGIT_COUNTS = [1_000, 2_000, 5_000, 10_000, 20_000, 55_000]
MOST_EPOCHS = 50

DEFAULTS = {
    "train:arch": "resnet18",
    "train:stem": None,
    "train:dataset": "mnist",
    "train:batch_size": 128,
    "train:lr": 3e-3,
    "train:weight_decay": 1e-4,
    "train:scheduler": "onecycle",
    "train:device": "auto",
    "train:precision": "auto",
    "train:augment": True,
    "train:zero_init": False,
    "train:length": "Quick",
    "train:digits": 5_000,
    "train:epochs": 2,
}


def _nearest(options: list[float], value: float) -> float:
    return min(options, key=lambda option: abs(option - value))


def settings_of(config: TrainConfig) -> dict:
    """The widget values that start `config` again: options the page offers, the nearest where it has not
    the exact one (a command-line run may have used any learning rate). Its length becomes Custom."""
    digits = config.train_subset or DIGIT_COUNTS[-1]
    return {
        "train:arch": config.arch if config.arch in ARCHITECTURES else DEFAULTS["train:arch"],
        "train:stem": config.stem if config.stem in STEMS else None,
        "train:dataset": config.dataset,
        "train:batch_size": _nearest(BATCH_SIZES, config.batch_size),
        "train:lr": _nearest(LEARNING_RATES, config.lr),
        "train:weight_decay": _nearest(WEIGHT_DECAYS, config.weight_decay),
        "train:scheduler": config.scheduler,
        "train:device": config.device if config.device in DEVICES else "auto",
        "train:precision": config.precision,
        "train:augment": config.augment,
        "train:zero_init": config.zero_init_residual,
        "train:length": CUSTOM,
        "train:digits": _nearest(DIGIT_COUNTS, digits),
        "train:epochs": max(1, min(MOST_EPOCHS, config.epochs)),
    }
