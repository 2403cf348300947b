"""The Train page's run lengths: how many digits, how many passes, and how long that takes here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from resnet_core.data.datasets import TRAINING_SET_SIZE
from resnet_core.training.config import TrainConfig, recipe
from resnet_core.training.progress import format_duration

CUSTOM = "Custom"


@dataclass(frozen=True)
class RunLength:
    digits: int | None  # training digits; None: all that are not held out for validation
    epochs: int  # passes over them
    checks: int = 1  # validation checks per pass: a one-pass run needs several to draw a curve

    @property
    def validation_digits(self) -> int:
        # Enough for a steady curve, and never more work than the training itself: a quick run
        # validating on 5,000 digits after each of its passes would spend half its time on it.
        return 5_000 if self.digits is None else min(5_000, max(1_000, self.digits // 2))

    def apply(self, settings: TrainConfig) -> TrainConfig:
        return replace(
            settings,
            train_subset=self.digits,
            epochs=self.epochs,
            validation_size=self.validation_digits,
            checks_per_epoch=self.checks,
        )

    def describe(self) -> str:
        digits = (
            f"all {TRAINING_SET_SIZE - self.validation_digits:,} digits"
            if self.digits is None
            else f"{self.digits:,} digits"
        )
        return f"{digits} × {self.epochs} {'pass' if self.epochs == 1 else 'passes'}"


# Quick is the sprint recipe's length: one pass over every training digit, the validation curve
# checked five times on the way (with the sprint's settings a ResNet-8 passes 99% within it).
RUN_LENGTHS = {
    "Quick": RunLength(None, 1, checks=5),
    "Medium": RunLength(None, 3),
    "Long": RunLength(None, 10),
}


def run_length_label(name: str, settings: TrainConfig, estimate: Callable[[TrainConfig], float | None]) -> str:
    """ "Quick: 2,000 digits × 5 passes, about 0:40" with the time estimated for `settings` here."""
    if name == CUSTOM:
        return "Custom"
    length = RUN_LENGTHS[name]
    seconds = estimate(length.apply(settings))
    about = f", about {format_duration(seconds)}" if seconds is not None else ""
    return f"{name}: {length.describe()}{about}"


def quick_config(device: str = "auto") -> TrainConfig:
    """The classroom run: the sprint recipe (a ResNet-8) at the Quick length."""
    return RUN_LENGTHS["Quick"].apply(recipe("sprint", device=device))
