"""Checkpoints: atomic saving, and loading that runs no code, checks before it allocates and explains every refusal.

A checkpoint is a plain dict of tensors, numbers and strings, loaded with
torch.load(weights_only=True): a file holding pickled Python objects (which
could run code on load) is refused, never executed. The model settings it claims
are checked, and its weights' shapes compared with a weightless (meta-device)
copy of the model, before any memory is given to a model (checkpoint_checks.py
holds the checks).
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import signal
import stat
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import torch

from resnet_core.data.datasets import DATASETS
from resnet_core.files.checkpoint_checks import (
    CheckpointError,
    check_epoch,
    check_history,
    check_metrics,
    check_model_kwargs,
    check_training_state,
    check_weights,
    read_payload,
)
from resnet_core.networks.resnet import ARCHITECTURES, ResNet, build_model
from resnet_core.training.config import TrainConfig

FORMAT = "resnet-explorer-checkpoint"
FORMAT_VERSION = 1
IMAGE_CHANNELS = 1  # every dataset in data.DATASETS is 28x28 grey
# A save in progress keeps writing its temporary file; one untouched this long lost its writer
# (a killed save). Far longer than the largest checkpoint (ResNet-152 with Adam state, ~0.7 GB) takes.
STALE_TEMPORARY_SECONDS = 600


@dataclass
class Checkpoint:
    model: ResNet  # on the CPU unless map_location said otherwise, in eval mode
    arch: str
    config: TrainConfig | None
    metrics: dict  # e.g. {"test_accuracy": 99.4}
    history: dict | None  # per-epoch curves (train.new_history's keys), also in files saved without training_state
    training_state: dict | None  # optimizer, scheduler, history, data order: for --resume; None in a slim file
    epoch: int


@contextlib.contextmanager
def _ctrl_c_waits():
    """Holds a Ctrl-C pressed while a checkpoint is written until the file is whole, then raises it.

    torch.save cut short by a KeyboardInterrupt fails again while closing its zip archive, so the
    interrupt would surface as a RuntimeError and the epoch being saved would be lost. Signals reach
    only the main thread, so elsewhere nothing needs holding.
    """
    previous = signal.getsignal(signal.SIGINT)
    if threading.current_thread() is not threading.main_thread() or not callable(previous):
        yield
        return
    pressed = []
    signal.signal(signal.SIGINT, lambda signum, frame: pressed.append(frame))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if pressed:
        previous(signal.SIGINT, pressed[-1])


def save_checkpoint(
    path: str | os.PathLike,
    model: ResNet,
    config: TrainConfig | None = None,
    metrics: dict | None = None,
    training_state: dict | None = None,
    epoch: int = 0,
    history: dict | None = None,
) -> Path:
    """Write model weights and what made them to `path`, atomically (a crash leaves the old file whole).

    training_state (the optimiser's and schedule's state, about twice the weights' size) is what
    --resume needs; leave it out for a slim file of weights, settings, metrics and `history` (the
    training curves; taken from training_state when not given). The file gets the mode a new file
    gets under the process umask. A temporary file a killed save left beside `path` is removed.
    """
    path = Path(path)
    if model.arch not in ARCHITECTURES:
        raise CheckpointError(f"Only registered architectures can be saved; this model is {model.arch!r}.")
    try:
        model_kwargs = check_model_kwargs(model.model_kwargs)
    except ValueError as err:  # a file load_checkpoint would refuse is not written
        raise CheckpointError(f"This model cannot be saved: {str(err).rstrip('.')}.") from None
    if history is None and isinstance(training_state, dict):
        history = training_state.get("history")
    payload = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "arch": model.arch,
        "model_kwargs": model_kwargs,
        "state_dict": {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()},
        "config": config.to_dict() if config else None,
        "metrics": dict(metrics or {}),
        # The curves, kept in a slim file too; beside training_state it is the same dict, pickled once.
        "history": history,
        "training_state": training_state,
        "epoch": epoch,
    }
    _check_target(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = _create_temporary(path)
    with _ctrl_c_waits():
        try:
            with os.fdopen(fd, "wb") as f:
                torch.save(payload, f)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
    _remove_stale_temporaries(path)
    return path


def check_can_save(path: str | os.PathLike) -> Path:
    """Refuse, before a long training run rather than after it, a `path` save_checkpoint could not write.

    Writes (and removes) a temporary file in the nearest folder above `path` that exists; creates
    nothing else. Raises CheckpointError naming the problem: `path` is a folder or a device, a
    file stands where a folder should, or the folder is not writable.
    """
    path = Path(path)
    _check_target(path)
    folder = next(f for f in (path.parent, *path.parent.parents) if f.exists() or f == f.parent)
    if not folder.is_dir():
        raise CheckpointError(f"Cannot save to {path}: {folder} is a file, not a folder.")
    try:
        fd, tmp = _create_temporary(folder / path.name)
        os.close(fd)
        tmp.unlink()
    except OSError as err:
        raise CheckpointError(f"Cannot save to {path}: {folder} is not writable ({err.strerror or err}).") from None
    return path


def _check_target(path: Path) -> None:
    # os.replace would put the file in place of whatever is there: refuse what is not a file
    # (as root it would replace even a device such as /dev/null).
    if path.is_dir():
        raise CheckpointError(f"Cannot save to {path}: it is a folder. Name a file in it, e.g. {path / 'model.pt'}.")
    if path.exists() and not path.is_file():
        raise CheckpointError(f"Cannot save to {path}: it is not a regular file (a device, pipe or socket).")


def _create_temporary(path: Path) -> tuple[int, Path]:
    # Not mkstemp: it creates files mode 0600; os.open's mode is narrowed by the umask like any new file's.
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        tmp = path.parent / f".{path.name}.{secrets.token_hex(4)}.tmp"
        try:
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"No free temporary file name beside {path}.")


def _remove_stale_temporaries(path: Path) -> None:
    # Only this target's (".model.pt.<token>.tmp", also mkstemp's from earlier releases), and only
    # ones left alone for a long while: another process saving to the same path right now keeps its own.
    own = re.compile(rf"\.{re.escape(path.name)}\.[a-z0-9_]+\.tmp")
    cutoff = time.time() - STALE_TEMPORARY_SECONDS
    try:
        candidates = [c for c in path.parent.iterdir() if own.fullmatch(c.name)]
    except OSError:
        return
    for candidate in candidates:
        try:
            info = candidate.lstat()
            if stat.S_ISREG(info.st_mode) and info.st_mtime < cutoff:
                candidate.unlink()
        except OSError:
            continue  # gone meanwhile, or not ours to remove: the save itself succeeded


def checkpoint_bytes(
    model: ResNet, config: TrainConfig | None = None, metrics: dict | None = None, history: dict | None = None
) -> bytes:
    """The same file as save_checkpoint writes (without training state), in memory (for a download button)."""
    with tempfile.TemporaryDirectory() as folder:
        path = save_checkpoint(Path(folder) / "model.pt", model, config, metrics, history=history)
        return path.read_bytes()


def load_checkpoint(source: str | os.PathLike | bytes | BinaryIO, map_location: str = "cpu") -> Checkpoint:
    """Read and validate a checkpoint from a path, bytes or a binary file object.

    Raises CheckpointError for anything that is not a checkpoint this project wrote
    (or a matching plain state dict), naming what is wrong.
    """
    payload = read_payload(source, map_location)
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
    if not isinstance(arch, str) or arch not in ARCHITECTURES:
        raise CheckpointError(f"Unknown architecture {arch!r} in checkpoint; known: {', '.join(ARCHITECTURES)}.")
    try:
        kwargs = check_model_kwargs(payload.get("model_kwargs"))
    except ValueError as err:
        raise CheckpointError(f"The checkpoint's model settings are damaged: {str(err).rstrip('.')}.") from None
    state_dict = payload.get("state_dict")
    # Shapes first, on a weightless copy: memory is given only to a model the weights fill.
    with torch.device("meta"):
        skeleton = build_model(arch, **kwargs)
    check_weights(skeleton.state_dict(), state_dict, arch)
    # The loaded tensors become the model's own (assign): no fresh build whose initial weights would be
    # overwritten at once, and no empty copy to fill (torch makes those through its reference ops, whose
    # first use imports its compiler: seconds of a server's start).
    model = skeleton
    model.load_state_dict(state_dict, strict=True, assign=True)  # read_payload put them on map_location
    model.eval()
    config = None
    if payload.get("config") is not None:
        try:
            config = TrainConfig.from_dict(payload["config"])
        except (TypeError, ValueError) as err:
            raise CheckpointError(f"The checkpoint's training settings are damaged: {err}") from None
    return Checkpoint(
        model=model,
        arch=arch,
        config=config,
        metrics=check_metrics(payload.get("metrics")),
        history=check_history(payload.get("history")),
        training_state=check_training_state(payload.get("training_state")),
        epoch=check_epoch(payload.get("epoch")),
    )


def check_fits_dataset(checkpoint: Checkpoint, dataset: str | None = None) -> None:
    """Refuse a model that cannot take `dataset`'s images or give its classes; call it before using an upload.

    dataset: a name from data.DATASETS; None: the one the checkpoint was trained on (MNIST if
    it does not say). Every dataset here is (N, 1, 28, 28) grey images in 10 classes: a model
    built for 3 channels or 11 classes loads, but would fail at its first prediction.
    Raises CheckpointError saying what the model was built for and what is needed.
    """
    if dataset is None:
        dataset = checkpoint.config.dataset if checkpoint.config is not None else "mnist"
    if dataset not in DATASETS:
        raise ValueError(f"Unknown dataset {dataset!r}: choose one of {', '.join(DATASETS)}.")
    info = DATASETS[dataset]
    kwargs = checkpoint.model.model_kwargs
    built, needed = (kwargs["in_chans"], kwargs["num_classes"]), (IMAGE_CHANNELS, len(info.classes))
    if built != needed:
        raise CheckpointError(
            f"This model was built for {built[0]}-channel images and {built[1]} classes; {info.title} needs "
            f"{needed[0]}-channel 28×28 images and {needed[1]} classes. Use a model trained here "
            "(`python -m resnet_core train` or the Train page)."
        )
