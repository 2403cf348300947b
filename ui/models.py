"""The session's active model, and checkpoints loaded once for every session."""

from __future__ import annotations

import hashlib
import os
import threading
import weakref
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from resnet_core.checkpoints import Checkpoint, load_checkpoint
from resnet_core.models import ResNet
from resnet_core.predictor import Predictor
from ui import keys

CHECKPOINT_DIR = Path(os.environ.get("RESNET_CHECKPOINT_DIR", "checkpoints"))


@dataclass(frozen=True)
class ActiveModel:
    model: ResNet  # eval mode; shared (read-only) when it came from a checkpoint
    arch: str
    stem: str
    source: str  # "trained in this session", "checkpoint resnet18.pt", ...
    test_accuracy: float | None  # percent
    dataset: str = "mnist"  # what it was trained on: names its classes


def active_model() -> ActiveModel | None:
    return st.session_state.get(keys.ACTIVE_MODEL)


def set_active_model(active: ActiveModel) -> None:
    st.session_state[keys.ACTIVE_MODEL] = active


def from_checkpoint(checkpoint: Checkpoint, source: str) -> ActiveModel:
    accuracy = checkpoint.metrics.get("test_accuracy")
    dataset = checkpoint.config.dataset if checkpoint.config is not None else "mnist"
    stem = checkpoint.model.model_kwargs["stem"]
    return ActiveModel(checkpoint.model, checkpoint.arch, stem, source, accuracy, dataset)


@st.cache_resource(max_entries=8, show_spinner="Loading checkpoint…")
def _load_cached(key: str, _data: bytes) -> Checkpoint:
    # Keyed by content hash: every session that opens the same file shares one read-only model.
    return load_checkpoint(_data)


def load_shared_checkpoint(data: bytes) -> Checkpoint:
    """Load (once per distinct content, for all sessions) a checkpoint's bytes. Raises CheckpointError."""
    return _load_cached(hashlib.sha256(data).hexdigest(), data)


def saved_checkpoints() -> list[Path]:
    """Checkpoints in the checkpoints folder, newest first."""
    if not CHECKPOINT_DIR.is_dir():
        return []
    return sorted(CHECKPOINT_DIR.glob("*.pt"), key=lambda p: p.stat().st_mtime, reverse=True)


# One fast predictor per model, dropped with its model; shared models share theirs.
_predictors: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_predictors_lock = threading.Lock()


def predictor_for(model: ResNet) -> Predictor:
    """The model's shared predictor (BatchNorm folded, channels-last), built on first use."""
    with _predictors_lock:
        if model not in _predictors:
            _predictors[model] = Predictor(model)
        return _predictors[model]
