"""One row per trained model, from what its checkpoint (or its run) recorded: to compare runs side by side."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from resnet_core.files.checkpoints import Checkpoint
from resnet_core.networks.resnet import count_parameters
from resnet_core.training.config import TrainConfig


@dataclass(frozen=True)
class RunRecord:
    name: str
    source: str  # "starter", "saved file", "run on this server"
    arch: str
    stem: str
    residual: bool
    dataset: str
    recipe: str  # "fast" (one-cycle, label smoothing), "classic" (step decay) or "other"
    epochs: int
    test_accuracy: float | None  # percent
    test_digits: int | None  # how many test digits that accuracy counts (None: not recorded)
    parameters: int
    training_seconds: float | None  # summed over the recorded epochs
    device: str  # as asked for: "auto", "cpu", "cuda"
    date: datetime | None
    history: dict | None  # per-epoch curves (resnet_core.training.trainer.new_history's keys)
    config: TrainConfig | None  # None for a file saved without settings
    pair_seconds: float | None = None  # a Residual Lab twin's: trained step by step beside its twin, the pair's time


def recipe_name(config: TrainConfig | None) -> str:
    if config is None:
        return "other"
    if config.scheduler == "onecycle" and config.label_smoothing > 0:
        return "fast"
    return "classic" if config.scheduler == "step" else "other"


def run_record(
    name: str, source: str, checkpoint: Checkpoint, date: datetime | None, accuracy: float | None = None
) -> RunRecord:
    """The row for one checkpoint; `accuracy` overrides the test accuracy it recorded (a run's own test)."""
    config, history = checkpoint.config, checkpoint.history
    seconds = sum(history["seconds"]) if history and history.get("seconds") else None
    recorded = checkpoint.metrics.get("test_accuracy") if checkpoint.metrics else None
    # A run's test covers its config's test subset (None: all 10,000); the lab's twins record their own count.
    test_digits = (checkpoint.metrics or {}).get("test_digits") or (config.test_subset or 10_000 if config else None)
    return RunRecord(
        name=name,
        source=source,
        arch=checkpoint.arch,
        stem=checkpoint.model.model_kwargs["stem"],
        residual=checkpoint.model.model_kwargs["residual"],
        dataset=config.dataset if config else "mnist",
        recipe=recipe_name(config),
        epochs=len(history["epoch"]) if history and history.get("epoch") else checkpoint.epoch,
        test_accuracy=accuracy if accuracy is not None else (float(recorded) if recorded is not None else None),
        test_digits=test_digits,
        parameters=count_parameters(checkpoint.model),
        training_seconds=seconds,
        device=config.device if config else "",
        date=date,
        history=history,
        config=config,
    )
