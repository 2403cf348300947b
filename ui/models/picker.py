"""Choosing the model a page uses: the active one, a saved checkpoint, or an uploaded file."""

from __future__ import annotations

import streamlit as st

from resnet_core.files.checkpoints import CheckpointError, check_fits_dataset
from resnet_core.training.progress import format_duration
from ui import keys
from ui.jobs.session import TRAINING, session_job, start_job
from ui.models.model_list import (
    ModelEntry,
    active_model,
    from_checkpoint,
    load_shared_checkpoint,
    saved_checkpoints,
    set_active_model,
)
from ui.resources import estimated_run_seconds, missing_data_message
from ui.training.lengths import quick_config
from ui.training.work import TrainingWork


def pick_model() -> ModelEntry | None:
    """The model in use, under controls that load another one (a saved checkpoint or a file) into the list."""
    current = active_model()
    with st.expander(
        "Load another model: a saved checkpoint or a file", expanded=current is None, icon=":material/upload_file:"
    ):
        saved = saved_checkpoints()
        if saved:
            left, right = st.columns([3, 1], vertical_alignment="bottom")
            path = left.selectbox("Saved checkpoint", saved, format_func=lambda p: p.name)
            if right.button("Use it", icon=":material/check:"):
                try:
                    refusal = _adopt(path.read_bytes(), f"checkpoint {path.name}")
                except OSError as err:
                    refusal = f"Could not read {path.name}: {err.strerror or err}. Choose another checkpoint."
                st.error(refusal)
        upload = st.file_uploader("Checkpoint file (.pt) made by this project", type=["pt", "pth"])
        # Tried once per file: afterwards the sidebar may choose another model without this one coming
        # back, and a refused file keeps its reason on screen while it stays in the uploader.
        if upload is not None:
            if st.session_state.get(keys.ADOPTED_UPLOAD, (None,))[0] != upload.file_id:
                st.session_state[keys.ADOPTED_UPLOAD] = (upload.file_id, None)  # kept if _adopt reruns the page
                st.session_state[keys.ADOPTED_UPLOAD] = (
                    upload.file_id,
                    _adopt(upload.getvalue(), f"uploaded {upload.name}"),
                )
            refusal = st.session_state[keys.ADOPTED_UPLOAD][1]
            if refusal:
                st.error(refusal)
    if current is None:
        offer_quick_training("load a checkpoint above")
    return current


def _adopt(data: bytes, name: str) -> str:
    """Load a checkpoint into the session's list and use it (the page reruns); else say why it cannot be used."""
    try:
        checkpoint = load_shared_checkpoint(data)
        check_fits_dataset(checkpoint)
    except CheckpointError as err:
        return f"This checkpoint cannot be used: {err}"
    set_active_model(from_checkpoint(checkpoint, name))
    st.rerun()  # so the sidebar, drawn before this page, names the new model


def offer_quick_training(checkpoint_hint: str) -> None:
    """The way forward when there is no model: one click trains a small one.

    checkpoint_hint says where this page's user can load a checkpoint instead.
    """
    job = session_job(TRAINING)
    if job is not None and not job.finished:
        # A second run would queue behind this one and take its place in the session: the first
        # would train on where nobody could see or stop it, and its model would never be used.
        st.info("Your training run is still going: its model is used here as soon as it ends.")
        st.page_link("app_pages/train.py", label="Watch it on the Train page", icon=":material/model_training:")
        return
    quick = quick_config()
    seconds = estimated_run_seconds(quick)
    about = f" (about {format_duration(seconds)} here)" if seconds is not None else ""
    st.info(f"There is no trained model yet. Train a quick one{about}, or {checkpoint_hint}.")
    problem = missing_data_message("mnist")
    if st.button(
        f"Train a quick {quick.arch} now",
        type="primary",
        icon=":material/model_training:",
        disabled=problem is not None,
    ):
        if start_job(TRAINING, TrainingWork(quick), estimated_seconds=seconds):
            st.switch_page("app_pages/train.py")
    if problem:
        st.caption("Training needs the MNIST files, which are missing: see the Train page. A checkpoint still works.")
