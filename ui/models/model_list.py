"""The session's models (the starters, its runs, its uploads), the active one, and checkpoints loaded once.

Every session starts with the starter models that ship in assets/: they are loaded once per
server and shared read-only, so every page has a model from the first second. A session's own
runs and uploads join its list; the sidebar chooses which one the pages use.
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from resnet_core.digits.predictor import Predictor
from resnet_core.files.checkpoints import Checkpoint, CheckpointError, load_checkpoint
from resnet_core.networks.resnet import ResNet
from ui import keys
from ui.caches import ServerCache, model_bytes, once_per


def checkpoint_dir() -> Path:
    """Where the app saves and lists checkpoints: $RESNET_CHECKPOINT_DIR, else ./checkpoints."""
    return Path(os.environ.get("RESNET_CHECKPOINT_DIR", "checkpoints"))


# The starters ship in assets/; RESNET_STARTER_DIR may point elsewhere (an empty folder: no starters).
STARTER_DIR = Path(__file__).resolve().parents[2] / "assets"
# File in assets/ -> its name in the model list. The first is every session's starting model.
STARTERS = {"starter-resnet20.pt": "Starter ResNet-20", "starter-plain20.pt": "Starter plain-20"}
OWN_MODELS_KEPT = 6  # a session's runs and uploads in its list; older ones drop off (each holds its weights)
# Checkpoints loaded from uploads and the checkpoints folder, shared by every session that opens the
# same file: their weights may take this many bytes in all.
LOADED_CHECKPOINT_BYTES = 512 * 2**20


@dataclass(frozen=True)
class ModelEntry:
    """One model of a session's list: a starter, a run or an upload, with what the list says of it."""

    model: ResNet  # eval mode; shared (read-only) when it came from a checkpoint
    arch: str
    stem: str
    source: str  # its name in the model list: "Starter ResNet-20", "Run 1: resnet18 on 5,000 digits", ...
    test_accuracy: float | None  # percent
    dataset: str = "mnist"  # what it was trained on: names its classes
    label_smoothing: float = 0.0  # of its training: a smoothed net is never trained to be 100% sure

    @property
    def label(self) -> str:
        accuracy = "" if self.test_accuracy is None else f" · {self.test_accuracy:.2f}%"
        return f"{self.source}{accuracy}"


_starters: ServerCache[tuple[ModelEntry, ...]] = ServerCache(most=4)  # by folder
_checkpoints: ServerCache[Checkpoint] = ServerCache(LOADED_CHECKPOINT_BYTES, lambda c: model_bytes(c.model))


def starter_models() -> tuple[ModelEntry, ...]:
    """The starter models, loaded once per server and shared read-only by every session."""
    folder = Path(os.environ.get("RESNET_STARTER_DIR", STARTER_DIR))
    return _starters.get(str(folder), lambda: _load_starters(folder))


def _load_starters(folder: Path) -> tuple[ModelEntry, ...]:
    # A missing or unreadable file is left out (the app then starts without it), never a crash.
    loaded = []
    with st.spinner("Loading the starter models…"):
        for file_name, name in STARTERS.items():
            try:
                loaded.append(from_checkpoint(load_checkpoint(folder / file_name), name))
            except CheckpointError:
                continue
    return tuple(loaded)


def session_models() -> list[ModelEntry]:
    """The models this session can choose from: the starters, then its own runs and uploads."""
    models = [*starter_models(), *st.session_state.get(keys.OWN_MODELS, [])]
    chosen = st.session_state.get(keys.ACTIVE_MODEL)
    if chosen is not None and not any(model is chosen for model in models):
        models.append(chosen)  # put in use without being filed: it must still be what the list shows
    return models


def active_model() -> ModelEntry | None:
    """The model the pages use: the one chosen, else the first starter (None only if no starter loads)."""
    chosen = st.session_state.get(keys.ACTIVE_MODEL)
    if chosen is not None:
        return chosen
    starters = starter_models()
    return starters[0] if starters else None


def keep_model(model: ModelEntry) -> None:
    """Add a run or an upload to this session's list (once), without making it active."""
    own: list[ModelEntry] = st.session_state.setdefault(keys.OWN_MODELS, [])
    if any(kept.model is model.model for kept in own) or model in starter_models():
        return
    own.append(model)
    active = st.session_state.get(keys.ACTIVE_MODEL)
    while len(own) > OWN_MODELS_KEPT:
        # The oldest that is not in use goes: its weights are only memory once nobody can choose it.
        oldest = next(kept for kept in own if kept is not active)
        own.remove(oldest)


def set_active_model(model: ModelEntry) -> None:
    """Keep `model` in the list and make it the one the pages use."""
    keep_model(model)
    st.session_state[keys.ACTIVE_MODEL] = model


def from_checkpoint(checkpoint: Checkpoint, source: str) -> ModelEntry:
    accuracy = checkpoint.metrics.get("test_accuracy")
    dataset = checkpoint.config.dataset if checkpoint.config is not None else "mnist"
    stem = checkpoint.model.model_kwargs["stem"]
    smoothing = checkpoint.config.label_smoothing if checkpoint.config is not None else 0.0
    return ModelEntry(checkpoint.model, checkpoint.arch, stem, source, accuracy, dataset, smoothing)


def load_shared_checkpoint(data: bytes) -> Checkpoint:
    """Load (once per distinct content, for all sessions) a checkpoint's bytes. Raises CheckpointError.

    Keyed by the content's hash: every session that opens the same file shares one read-only model.
    """

    def load() -> Checkpoint:
        with st.spinner("Loading checkpoint…"):
            return load_checkpoint(data)

    return _checkpoints.get(hashlib.sha256(data).hexdigest(), load)


def saved_checkpoints() -> list[Path]:
    """Readable files named *.pt in the checkpoints folder, newest first.

    A dangling link, a folder called x.pt or a file removed meanwhile is passed over: one odd entry
    must not break the page for every session.
    """
    found = []
    try:
        candidates = list(checkpoint_dir().glob("*.pt"))
    except OSError:
        return []
    for path in candidates:
        try:
            status = path.stat()  # follows links: a dangling one raises here
        except OSError:
            continue
        if stat.S_ISREG(status.st_mode):
            found.append((status.st_mtime, path))
    return [path for _, path in sorted(found, key=lambda item: item[0], reverse=True)]


def predictor_for(model: ResNet) -> Predictor:
    """The model's shared predictor (BatchNorm folded, channels-last), built on first use."""
    return once_per(model, "predictor", lambda: Predictor(model))
