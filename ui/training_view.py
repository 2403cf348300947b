"""Drawing a training job on the Train page: live progress while it runs, results when it ends."""

from __future__ import annotations

import time

import streamlit as st

from resnet_core.checkpoints import checkpoint_bytes, save_checkpoint
from resnet_core.data import DATASETS
from resnet_core.progress import format_duration
from ui import charts, keys
from ui.jobs import DONE, FAILED, QUEUED, STOPPED, TrainingJob
from ui.models import CHECKPOINT_DIR, ActiveModel, set_active_model

GALLERY_SIZE = 24


def live_progress(job: TrainingJob) -> None:
    if job.status == QUEUED:
        st.info("Waiting for the device: another training run is using it. This one starts when it ends.")
    last = job.steps[-1] if job.steps else None
    text = f"epoch {last.epoch}/{job.config.epochs}" if last else "starting…"
    if last and last.step == last.steps_per_epoch and len(job.epochs) < last.epoch and not job.finished:
        # Between an epoch's last step and its results the page would otherwise sit still for seconds.
        text += f": measuring accuracy on the test {DATASETS[job.config.dataset].items}…"
    st.progress(job.progress_fraction(), text=text)
    cols = st.columns(4)
    cols[0].metric("Images / s", f"{last.images_per_second:,.0f}" if last else "–")
    left = job.seconds_left()
    cols[1].metric("Time left", format_duration(left) if left is not None else "–")
    cols[2].metric("Train loss", f"{last.loss:.3f}" if last else "–")
    val = job.epochs[-1].val_acc if job.epochs else None
    cols[3].metric("Validation accuracy", f"{val:.2f}%" if val is not None else "–")


def curves(job: TrainingJob) -> None:
    st.plotly_chart(charts.training_curves(list(job.steps), list(job.epochs)), key="training-curves")


def results(job: TrainingJob) -> None:
    if job.status == FAILED:
        st.error(job.error)
        return
    if job.result is None or job.result.test is None:
        st.warning("Training was stopped before its first step: there is no model to show.")
        return
    test, config = job.result.test, job.config
    verb = "finished" if job.status == DONE else "stopped early; the weights so far are kept"
    dataset = DATASETS[config.dataset]
    st.success(f"Training {verb}. Test accuracy **{test.accuracy:.2f}%** on {len(test.labels):,} test {dataset.items}.")
    st.caption(f"Arithmetic: {job.result.trainer.precision}.")
    classes = dataset.classes
    left, right = st.columns(2)
    with left:
        st.markdown("**Confusion matrix**")
        st.plotly_chart(charts.confusion_heatmap(test.confusion_matrix, classes))
    with right:
        st.markdown(f"**Misclassified test {dataset.items}** ({len(test.misclassified)} in all; first {GALLERY_SIZE})")
        shown = test.misclassified[:GALLERY_SIZE]
        if shown:
            st.image(
                [job.test_images[i].numpy() for i in shown],
                width=64,
                caption=[f"true {classes[test.labels[i]]}, said {classes[test.predictions[i]]}" for i in shown],
            )
    save, download = st.columns(2)
    if save.button("Save to checkpoints folder", icon=":material/save:"):
        path = CHECKPOINT_DIR / f"{config.arch}-{config.model_stem}-{time.strftime('%Y%m%d-%H%M%S')}.pt"
        try:
            save_checkpoint(path, job.result.model, config, {"test_accuracy": test.accuracy}, epoch=len(job.epochs))
            st.toast(f"Saved {path}")
        except OSError as err:
            st.error(f"Could not save to {path}: {err.strerror or err}. Use Download instead.")
    download.download_button(
        "Download checkpoint",
        icon=":material/download:",
        file_name=f"{config.arch}-{config.model_stem}.pt",
        mime="application/octet-stream",
        data=lambda: checkpoint_bytes(job.result.model, config, {"test_accuracy": test.accuracy}),
    )


def adopt_result(job: TrainingJob) -> None:
    """Make the finished job's model this session's active model, once per job and session.

    Once: a checkpoint loaded after the run ended stays active.
    """
    if job.status not in (DONE, STOPPED) or job.result is None or job.result.test is None:
        return
    if st.session_state.get(keys.ADOPTED_JOB) == job.id:
        return
    st.session_state[keys.ADOPTED_JOB] = job.id
    config = job.config
    set_active_model(
        ActiveModel(
            job.result.model,
            config.arch,
            config.model_stem,
            "trained in this session",
            job.result.test.accuracy,
            config.dataset,
        )
    )
