"""Checkpoints: atomic saving, and loading that runs no code and explains every refusal.

A checkpoint is a plain dict of tensors, numbers and strings, loaded with
torch.load(weights_only=True): a file holding pickled Python objects (which
could run code on load) is refused, never executed.
"""

from __future__ import annotations

import io
import os
import pickle
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import torch
from torch import nn

from resnet_core.config import TrainConfig
from resnet_core.models import ARCHITECTURES, ResNet, build_model, canonical_stem

FORMAT = "resnet-explorer-checkpoint"
FORMAT_VERSION = 1
MODEL_KWARGS = ("num_classes", "in_chans", "stem", "residual")


class CheckpointError(ValueError):
    """A checkpoint that cannot be used, with the reason."""


@dataclass
class Checkpoint:
    model: ResNet  # on the CPU unless map_location said otherwise, in eval mode
    arch: str
    config: TrainConfig | None
    metrics: dict  # e.g. {"test_accuracy": 99.4}
    history: dict | None
    training_state: dict | None  # optimizer, scheduler, history, data order: for --resume
    epoch: int


def save_checkpoint(
    path: str | os.PathLike,
    model: ResNet,
    config: TrainConfig | None = None,
    metrics: dict | None = None,
    training_state: dict | None = None,
    epoch: int = 0,
) -> Path:
    """Write model weights and what made them to `path`, atomically (a crash leaves the old file whole)."""
    path = Path(path)
    if model.arch not in ARCHITECTURES:
        raise CheckpointError(f"Only registered architectures can be saved; this model is {model.arch!r}.")
    payload = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "arch": model.arch,
        "model_kwargs": dict(model.model_kwargs),
        "state_dict": {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()},
        "config": config.to_dict() if config else None,
        "metrics": dict(metrics or {}),
        "training_state": training_state,
        "epoch": epoch,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(payload, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def checkpoint_bytes(model: ResNet, config: TrainConfig | None = None, metrics: dict | None = None) -> bytes:
    """The same file as save_checkpoint writes, in memory (for a download button)."""
    with tempfile.TemporaryDirectory() as folder:
        path = save_checkpoint(Path(folder) / "model.pt", model, config, metrics)
        return path.read_bytes()


def load_checkpoint(source: str | os.PathLike | bytes | BinaryIO, map_location: str = "cpu") -> Checkpoint:
    """Read and validate a checkpoint from a path, bytes or a binary file object.

    Raises CheckpointError for anything that is not a checkpoint this project wrote
    (or a matching plain state dict), naming what is wrong.
    """
    payload = _read_payload(source, map_location)
    if not isinstance(payload, dict):
        raise CheckpointError(f"This file holds a {type(payload).__name__}, not a checkpoint dictionary.")
    if payload.get("format") != FORMAT:
        raise CheckpointError(
            "This is not a ResNet Explorer checkpoint (no 'format' marker). Save one with "
            "`python -m resnet_core train` or resnet_core.save_checkpoint()."
        )
    if payload.get("version") != FORMAT_VERSION:
        raise CheckpointError(
            f"Checkpoint version {payload.get('version')!r} is not supported (expected {FORMAT_VERSION})."
        )
    arch = payload.get("arch")
    if arch not in ARCHITECTURES:
        raise CheckpointError(f"Unknown architecture {arch!r} in checkpoint; known: {', '.join(ARCHITECTURES)}.")
    kwargs = payload.get("model_kwargs")
    if not isinstance(kwargs, dict) or set(kwargs) != set(MODEL_KWARGS):
        raise CheckpointError(f"The checkpoint's model settings are damaged: expected keys {', '.join(MODEL_KWARGS)}.")
    try:
        kwargs = {**kwargs, "stem": canonical_stem(kwargs["stem"])}  # "mnist" from earlier releases too
    except (ValueError, TypeError) as err:
        raise CheckpointError(f"The checkpoint's stem is unknown: {err}") from None
    model = build_model(arch, **kwargs)
    _load_weights(model, payload.get("state_dict"), arch)
    model.eval()
    config = None
    if payload.get("config") is not None:
        try:
            config = TrainConfig.from_dict(payload["config"])
        except (TypeError, ValueError) as err:
            raise CheckpointError(f"The checkpoint's training settings are damaged: {err}") from None
    state = _training_state(payload.get("training_state"))
    return Checkpoint(
        model=model.to(map_location),
        arch=arch,
        config=config,
        metrics=_metrics(payload.get("metrics")),
        history=(state or {}).get("history"),
        training_state=state,
        epoch=_epoch(payload.get("epoch")),
    )


# The parts below are shown to people (test accuracy, epochs) or used to resume: a damaged one
# must be refused here with its name, not fail later as a TypeError in a page or in --resume.


def _metrics(metrics) -> dict:
    if metrics is None:
        return {}
    if not isinstance(metrics, dict):
        raise CheckpointError(f"The checkpoint's metrics are damaged: a {type(metrics).__name__}, not a dictionary.")
    accuracy = metrics.get("test_accuracy")
    if accuracy is not None and not (
        isinstance(accuracy, (int, float)) and not isinstance(accuracy, bool) and 0 <= accuracy <= 100
    ):
        raise CheckpointError(f"The checkpoint's test accuracy is damaged: {accuracy!r} is not a percentage.")
    return dict(metrics)


def _training_state(state) -> dict | None:
    if state is None:
        return None
    if not isinstance(state, dict) or not isinstance(state.get("history"), (dict, type(None))):
        raise CheckpointError("The checkpoint's training state (optimiser and history) is damaged.")
    return state


def _epoch(epoch) -> int:
    if epoch is None:
        return 0
    if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 0:
        raise CheckpointError(f"The checkpoint's epoch count is damaged: {epoch!r}.")
    return epoch


def _read_payload(source, map_location):
    try:
        if isinstance(source, (bytes, bytearray)):
            source = io.BytesIO(source)
        elif isinstance(source, (str, os.PathLike)) and not Path(source).is_file():
            raise CheckpointError(f"No checkpoint file at {source}.")
        return torch.load(source, map_location=map_location, weights_only=True)
    except CheckpointError:
        raise
    except pickle.UnpicklingError as err:
        # weights_only refuses every import a pickle asks for (GLOBAL): that is where code would run.
        if "GLOBAL" in str(err):
            raise CheckpointError(
                "Refused: this file contains Python objects that could run code when loaded, "
                "so it was not loaded. Only checkpoints of weights and plain values are accepted."
            ) from None
        raise CheckpointError(
            "This file is not a readable PyTorch checkpoint (it is damaged or another format)."
        ) from None
    except (RuntimeError, EOFError, OSError, ValueError, KeyError, AttributeError, TypeError) as err:
        detail = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise CheckpointError(f"This file is not a readable PyTorch checkpoint ({detail[:200]}).") from None


def _load_weights(model: nn.Module, state_dict, arch: str) -> None:
    if not isinstance(state_dict, dict) or not all(isinstance(v, torch.Tensor) for v in state_dict.values()):
        raise CheckpointError("The checkpoint has no usable weights (state_dict missing or not all tensors).")
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state_dict))
    unexpected = sorted(set(state_dict) - set(expected))
    if missing or unexpected:
        parts = []
        if missing:
            parts.append(f"{len(missing)} missing (e.g. {missing[0]})")
        if unexpected:
            parts.append(f"{len(unexpected)} unexpected (e.g. {unexpected[0]})")
        raise CheckpointError(f"The weights do not fit {arch}: {'; '.join(parts)}.")
    wrong = [k for k, v in state_dict.items() if v.shape != expected[k].shape]
    if wrong:
        k = wrong[0]
        raise CheckpointError(
            f"The weights do not fit {arch}: {k} has shape {tuple(state_dict[k].shape)}, "
            f"expected {tuple(expected[k].shape)}."
        )
    if any(v.is_floating_point() and not torch.isfinite(v).all() for v in state_dict.values()):
        raise CheckpointError("The checkpoint's weights contain NaN or infinite values.")
    model.load_state_dict(state_dict, strict=True)
