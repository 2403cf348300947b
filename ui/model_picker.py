"""Choosing the model a page uses: the active one, a saved checkpoint, or an uploaded file."""

from __future__ import annotations

import streamlit as st

from resnet_core.checkpoints import CheckpointError
from ui.jobs import quick_config
from ui.models import (
    ActiveModel,
    active_model,
    from_checkpoint,
    load_shared_checkpoint,
    saved_checkpoints,
    set_active_model,
)
from ui.resources import missing_data_message
from ui.session_job import session_job, start_job

ACTIVE, SAVED, UPLOAD = "Active model", "Saved checkpoint", "Upload a checkpoint"


def pick_model() -> ActiveModel | None:
    """Render the model-source controls; the chosen model becomes the session's active model."""
    current = active_model()
    saved = saved_checkpoints()
    sources = ([ACTIVE] if current else []) + ([SAVED] if saved else []) + [UPLOAD]
    source = st.radio("Model", sources, horizontal=True, key="model_source")
    if source == ACTIVE:
        return current
    if source == SAVED:
        path = st.selectbox("Checkpoint", saved, format_func=lambda p: p.name)
        return _adopt(path.read_bytes(), f"checkpoint {path.name}")
    upload = st.file_uploader("Checkpoint file (.pt) made by this project", type=["pt", "pth"])
    if upload is None:
        if current is None:
            offer_quick_training("upload a checkpoint above")
        return None
    return _adopt(upload.getvalue(), f"uploaded {upload.name}")


def _adopt(data: bytes, source: str) -> ActiveModel | None:
    try:
        chosen = from_checkpoint(load_shared_checkpoint(data), source)
    except CheckpointError as err:
        st.error(f"This checkpoint cannot be used: {err}")
        return None
    current = active_model()
    if current is None or current.model is not chosen.model:
        set_active_model(chosen)
        st.rerun()  # so the sidebar, drawn before this page, names the new model
    return chosen


def offer_quick_training(checkpoint_hint: str) -> None:
    """The way forward when there is no model: one click trains a small one.

    checkpoint_hint says where this page's user can load a checkpoint instead.
    """
    job = session_job()
    if job is not None and not job.finished:
        # A second run would queue behind this one and take its place in the session: the first
        # would train on where nobody could see or stop it, and its model would never be used.
        st.info("Your training run is still going: its model is used here as soon as it ends.")
        st.page_link("app_pages/train.py", label="Watch it on the Train page", icon=":material/model_training:")
        return
    st.info(f"There is no trained model yet. Train a quick one (about a minute), or {checkpoint_hint}.")
    problem = missing_data_message("mnist")
    if st.button(
        "Train a quick ResNet-18 now", type="primary", icon=":material/model_training:", disabled=problem is not None
    ):
        start_job(quick_config())
        st.switch_page("app_pages/train.py")
    if problem:
        st.caption("Training needs the MNIST files, which are missing: see the Train page. A checkpoint still works.")
