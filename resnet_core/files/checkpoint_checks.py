"""What a checkpoint file may hold, checked part by part before anything is built from it.

Reading runs no code (torch.load with weights_only=True refuses pickled objects); the model
settings are bounded before a model is built from them; the weights are compared, shape by
shape, with the tensors the model expects; and every other part is checked for what a page
or --resume will do with it. Each refusal is a CheckpointError that names what is wrong.
"""

from __future__ import annotations

import io
import os
import pickle
from pathlib import Path

import torch

from resnet_core.networks.resnet import STEMS, check_stem

MODEL_KWARGS = ("num_classes", "in_chans", "stem", "residual")
# What a checkpoint may claim, checked before anything is built: a 1.5 KB file claiming 1.5 million
# classes would otherwise have a 3 GB fc layer allocated before its weights were looked at.
NUM_CLASSES = range(2, 1001)  # up to ImageNet's 1,000, the most of any torchvision ResNet (fc 2048x1000: 8 MB)
IN_CHANS = range(1, 5)  # grey, grey+alpha, RGB, RGBA: no picture format the app reads has more


class CheckpointError(ValueError):
    """A checkpoint that cannot be used, with the reason."""


def check_model_kwargs(kwargs) -> dict:
    """The model settings, checked for type and size before anything is built; ValueError names the wrong one."""
    if not isinstance(kwargs, dict) or set(kwargs) != set(MODEL_KWARGS):
        raise ValueError(f"expected the keys {', '.join(MODEL_KWARGS)}")
    for name, allowed, what in (("num_classes", NUM_CLASSES, "classes"), ("in_chans", IN_CHANS, "input channels")):
        value = kwargs[name]
        if isinstance(value, bool) or not isinstance(value, int) or value not in allowed:
            bounds = f"from {allowed.start} to {allowed.stop - 1:,}"
            raise ValueError(f"{name} = {_short(value)}, expected a whole number of {what} {bounds}")
    if not isinstance(kwargs["residual"], bool):
        raise ValueError(f"residual = {_short(kwargs['residual'])}, expected True or False")
    if not isinstance(kwargs["stem"], str):
        raise ValueError(f"stem = {_short(kwargs['stem'])}, expected one of {', '.join(STEMS)}")
    check_stem(kwargs["stem"])
    return dict(kwargs)


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


# The parts below are shown to people (test accuracy, epochs) or used to resume: a damaged one
# must be refused here with its name, not fail later as a TypeError in a page or in --resume.


def check_metrics(metrics) -> dict:
    """The metrics as a dict ({} for none), the test accuracy a percentage if there is one."""
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


def check_training_state(state) -> dict | None:
    """The optimiser, schedule and history --resume needs, or None in a slim file."""
    if state is None:
        return None
    if not isinstance(state, dict) or not isinstance(state.get("history"), (dict, type(None))):
        raise CheckpointError("The checkpoint's training state (optimiser and history) is damaged.")
    return state


def check_history(history) -> dict | None:
    """The per-epoch curves: a page draws them, --resume appends to them, so each is a list of one length."""
    if history is None:
        return None
    if (
        not isinstance(history, dict)
        or not all(isinstance(k, str) and isinstance(v, list) for k, v in history.items())
        or len({len(v) for v in history.values()}) > 1
    ):
        raise CheckpointError("The checkpoint's training history is damaged: expected per-epoch lists of one length.")
    return history


def check_epoch(epoch) -> int:
    """The epochs trained, a whole number from 0."""
    if epoch is None:
        return 0
    if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 0:
        raise CheckpointError(f"The checkpoint's epoch count is damaged: {epoch!r}.")
    return epoch


def read_payload(source, map_location: str):
    """The dict a checkpoint file (a path, bytes or a binary file) holds, read without running any code."""
    try:
        if isinstance(source, (bytes, bytearray)):
            source = io.BytesIO(source)
        elif isinstance(source, (str, os.PathLike)) and Path(source).is_dir():
            raise CheckpointError(f"{source} is a folder, not a checkpoint file.")
        elif isinstance(source, (str, os.PathLike)) and not Path(source).is_file():
            # Also a dangling link, or a pipe (which open() would wait on for ever).
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


def check_weights(expected: dict, state_dict, arch: str) -> None:
    """Compare the weights a checkpoint holds with the tensors (meta ones will do) the model expects."""
    if (
        not isinstance(state_dict, dict)
        or not all(isinstance(k, str) for k in state_dict)
        or not all(isinstance(v, torch.Tensor) and v.layout == torch.strided for v in state_dict.values())
    ):
        raise CheckpointError("The checkpoint has no usable weights (state_dict missing or not all tensors).")
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
    kinds = [
        k for k, v in state_dict.items() if v.is_complex() or v.is_floating_point() != expected[k].is_floating_point()
    ]
    if kinds:
        k = kinds[0]
        raise CheckpointError(
            f"The weights do not fit {arch}: {k} holds {state_dict[k].dtype}, expected {expected[k].dtype}."
        )
    if any(v.is_floating_point() and not torch.isfinite(v).all() for v in state_dict.values()):
        raise CheckpointError("The checkpoint's weights contain NaN or infinite values.")
