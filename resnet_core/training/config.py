"""TrainConfig, everything that decides a training run, and the named recipes that fill it in."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields, replace

from resnet_core.data.datasets import DATASETS
from resnet_core.networks.resnet import ARCHITECTURES, check_stem, check_zero_init
from resnet_core.training.precision import check_precision

SCHEDULERS = ("step", "onecycle", "constant")


@dataclass
class TrainConfig:
    """Everything that decides a training run; stored in every checkpoint. The defaults are the classic recipe."""

    arch: str = "resnet18"  # a name from ARCHITECTURES
    # A name from networks.resnet.STEMS: "imagenet" (7x7/2 + max-pool), "medium" or "small"; None: the
    # architecture's own (imagenet for resnet18..152, small for the depth family resnet8..110).
    stem: str | None = None
    residual: bool = True  # False removes every skip connection (the paper's plain net): its plain twin
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
    # Stratified training digits held out for the per-epoch validation curve and never trained on,
    # so the test set is measured once, at the end. 0: no validation curve.
    validation_size: int = 5_000
    # Validations per epoch: more than one draws the validation curve within an epoch (a one-epoch run's
    # only curve). Each costs a pass over the validation digits, not counted as training time.
    checks_per_epoch: int = 1
    seed: int = 0  # seeds weights, shuffling, augmentation and subsets
    device: str = "auto"  # "auto" (cuda, mps, cpu), "cpu", "cuda", "cuda:1", "mps"
    precision: str = "auto"  # "auto" (bf16 autocast on CUDA, fp32 elsewhere), "fp32" or "bf16"

    def __post_init__(self) -> None:
        # Checked here, not when used: a checkpoint's stored config names the classes the app shows.
        if self.stem is not None:
            check_stem(self.stem)
        for name, known in (("arch", ARCHITECTURES), ("dataset", DATASETS), ("scheduler", SCHEDULERS)):
            if getattr(self, name) not in known:
                raise ValueError(f"Unknown {name} {getattr(self, name)!r}: choose one of {', '.join(known)}.")
        check_precision(self.precision)
        if self.validation_size < 0:
            raise ValueError(f"validation_size must be 0 or more, got {self.validation_size}.")
        for name in ("epochs", "batch_size", "step_size", "checks_per_epoch"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}.")
        if not (self.lr > 0 and math.isfinite(self.lr)):
            raise ValueError(f"lr must be a positive number, got {self.lr}.")
        if self.weight_decay < 0:
            raise ValueError(f"weight_decay must be 0 or more, got {self.weight_decay}.")
        if not 0 <= self.label_smoothing < 1:
            raise ValueError(f"label_smoothing must be in [0, 1), got {self.label_smoothing}.")
        check_zero_init(self.residual, self.zero_init_residual)

    @property
    def model_stem(self) -> str:
        """The stem the model is built with: the one named, else the architecture's own."""
        return self.stem or ARCHITECTURES[self.arch].stem

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> TrainConfig:
        """The config a checkpoint stored; keys this TrainConfig does not have are left out."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in known})


RECIPES: dict[str, TrainConfig] = {
    # The original recipe: 10 epochs of Adam 1e-3, wd 1e-4, batch 128, learning rate x0.1 after epoch 7.
    "classic": TrainConfig(),
    # One epoch of OneCycle (warm-up to 3e-3, then anneal) with label smoothing: past 99% test
    # accuracy in one epoch, where the classic recipe needs three (docs/benchmarks.md).
    "fast": TrainConfig(epochs=1, batch_size=128, lr=3e-3, scheduler="onecycle", label_smoothing=0.1),
    # A residual net past 99% while a class watches: ResNet-8 with the medium stem (2.6M multiply-adds a
    # digit), one pass over the 55,000 training digits without augmentation, one-cycle to 6e-3, the
    # validation curve measured five times on the way. 99.11% on the test set in 12.4 s of training on
    # a 2-core Intel Xeon, mean of 5 seeds (docs/benchmarks.md, "Time to 99% test accuracy").
    "sprint": TrainConfig(
        arch="resnet8",
        stem="medium",
        epochs=1,
        batch_size=128,
        lr=6e-3,
        scheduler="onecycle",
        label_smoothing=0.1,
        augment=False,
        checks_per_epoch=5,
    ),
}


def recipe(name: str, **overrides) -> TrainConfig:
    """A named recipe's TrainConfig with some fields replaced: recipe("fast", epochs=5)."""
    if name not in RECIPES:
        raise ValueError(f"Unknown recipe {name!r}: choose one of {', '.join(RECIPES)}.")
    return replace(RECIPES[name], **overrides)


def smoothed_target(label_smoothing: float, classes: int) -> float:
    """The probability a label-smoothed target gives the right class: what the trained net aims for, not 1."""
    return 1 - label_smoothing + label_smoothing / classes
