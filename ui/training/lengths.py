"""The Train page's run lengths: how many digits, how many passes, and how long that takes here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from resnet_core.training.config import TrainConfig, recipe
from resnet_core.training.progress import format_duration

CUSTOM = "Custom"


@dataclass(frozen=True)
class RunLength:
    digits: int | None  # training digits; None: all that are not held out for validation
    epochs: int  # passes over them

    @property
    def validation_digits(self) -> int:
        # Enough for a steady curve, and never more work than the training itself: a quick run
        # validating on 5,000 digits after each of its passes would spend half its time on it.
        return 5_000 if self.digits is None else min(5_000, max(1_000, self.digits // 2))

    def apply(self, settings: TrainConfig) -> TrainConfig:
        return replace(settings, train_subset=self.digits, epochs=self.epochs, validation_size=self.validation_digits)

    def describe(self) -> str:
        digits = "all 55,000 digits" if self.digits is None else f"{self.digits:,} digits"
        return f"{digits} × {self.epochs} {'pass' if self.epochs == 1 else 'passes'}"


# The shortest still makes a usable model: it takes ~80 training steps, where one pass over
# 1,000 digits took 8 and left a model that guessed.
RUN_LENGTHS = {
    "Quick": RunLength(2_000, 5),
    "Medium": RunLength(10_000, 2),
    "Long": RunLength(None, 2),
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
    """The classroom run: the fast recipe's ResNet-18 at the Quick length."""
    return RUN_LENGTHS["Quick"].apply(recipe("fast", device=device))
