"""Drawing a training job on the Train page: live progress while it runs, results when it ends."""

from __future__ import annotations

import time

import streamlit as st

from resnet_core.data.datasets import DATASETS
from resnet_core.devices import select_device
from resnet_core.files.checkpoints import checkpoint_bytes, save_checkpoint
from resnet_core.training.progress import format_duration
from ui import charts, keys
from ui.confusion_view import confusion_section
from ui.jobs.training_job import DONE, FAILED, QUEUED, STOPPED, TrainingJob
from ui.models.model_list import ActiveModel, active_model, checkpoint_dir, keep_model, set_active_model
from ui.resources import device_locks


def summary(config) -> str:
    """One line for a run's settings: "resnet18, 2,000 digits × 5 passes, batch 128"."""
    digits = f"{config.train_subset:,}" if config.train_subset else "all"
    passes = "1 pass" if config.epochs == 1 else f"{config.epochs} passes"
    return f"{config.arch}, {digits} {DATASETS[config.dataset].items} × {passes}, batch {config.batch_size}"


def stop_control(job: TrainingJob, token: str) -> None:
    """Stop for the session that started the run; a sentence for everyone watching through its link."""
    if job.stop_event.is_set():
        st.caption("Stopping after the current step…")
    elif job.can_stop(token):
        if st.button("Stop", icon=":material/stop:", help="ends training after the current step and keeps the weights"):
            job.stop(token)
        if token != job.owner:
            st.caption("The person who started this run has left, so anyone may stop it.")
    else:
        st.caption(
            "This run was started in another tab or browser: you are watching it, and only they can stop it. "
            "If it was yours before a reload, Stop appears here within 30 seconds."
        )


def _seconds_until_done(job) -> float | None:
    """A run's remaining seconds: measured progress while it runs, else its estimate (None: unknown).

    Lab runs share the device's line and have neither.
    """
    left = job.seconds_left() if isinstance(job, TrainingJob) else None  # None unless running with progress
    return left if left is not None else getattr(job, "estimated_seconds", None)


def queue_message(job: TrainingJob) -> str:
    ahead = device_locks().for_device(select_device(job.config.device)).ahead_of(job)
    runs = "1 run is" if len(ahead) == 1 else f"{len(ahead)} runs are"
    text = f"Waiting for the device: {runs} ahead of yours (yours is number {len(ahead) + 1} in line)."
    waits = [_seconds_until_done(other) for other in ahead]
    if ahead and all(wait is not None for wait in waits):
        text += f" Yours starts in about {format_duration(sum(waits))}"
        text += f" and then takes about {format_duration(job.estimated_seconds)}." if job.estimated_seconds else "."
    return text


def live_progress(job: TrainingJob) -> None:
    if job.status == QUEUED:
        st.info(queue_message(job))
    last = job.steps[-1] if job.steps else None
    text = (
        f"epoch {last.epoch}/{job.config.epochs}"
        if last
        else "starting: putting the digits in place for the first step…"
    )
    if last and last.step == last.steps_per_epoch and len(job.epochs) < last.epoch and not job.finished:
        # Between an epoch's last step and its results the page would otherwise sit still for seconds.
        text += f": measuring accuracy on the {job.config.validation_size:,} validation {DATASETS[job.config.dataset].items}…"
    st.progress(job.progress_fraction(), text=text)
    cols = st.columns(4)
    cols[0].metric("Images / s", f"{last.images_per_second:,.0f}" if last else "–")
    left = job.seconds_left()
    cols[1].metric("Time left", format_duration(left) if left is not None else "–")
    cols[2].metric("Train loss", f"{last.loss:.3f}" if last else "–")
    val = job.epochs[-1].val_acc if job.epochs else None
    cols[3].metric("Validation accuracy", f"{val:.2f}%" if val is not None else "–")


def curves(job: TrainingJob) -> None:
    if not job.steps:  # empty axes would only puzzle: the progress bar says what is happening
        return
    st.plotly_chart(
        charts.training_curves(list(job.steps), list(job.epochs)),
        key="training-curves",
        config=charts.NO_TOOLBAR,
    )


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
    st.success(
        f"Training {verb}. Test accuracy **{test.accuracy:.2f}%**, measured once, now, on {len(test.labels):,} "
        f"test {dataset.items} the network never saw (the curves used {config.validation_size:,} training "
        f"{dataset.items} held out for validation)."
    )
    in_use = active_model()
    if in_use is not None and in_use.model is not job.result.model:
        st.info(
            f"The pages still use **{in_use.label}**: this run was not switched in because "
            + _why_not_switched_in(job, in_use)
            + ". It is kept in the model list in the sidebar."
        )
        if st.button("Use this run's model", icon=":material/swap_horiz:"):
            set_active_model(run_model(job))
            st.rerun(scope="app")
    st.caption(f"Arithmetic: {job.result.trainer.precision}.")
    confusion_section(test, job.test_images, config.dataset, key="confusion-matrix")
    save, download = st.columns(2)
    if save.button("Save to checkpoints folder", icon=":material/save:"):
        path = checkpoint_dir() / f"{config.arch}-{config.model_stem}-{time.strftime('%Y%m%d-%H%M%S')}.pt"
        try:
            save_checkpoint(
                path,
                job.result.model,
                config,
                {"test_accuracy": test.accuracy},
                epoch=len(job.epochs),
                history=job.result.history,
            )
            st.toast(f"Saved {path}")
        except OSError as err:
            st.error(f"Could not save to {path}: {err.strerror or err}. Use Download instead.")
    download.download_button(
        "Download checkpoint",
        icon=":material/download:",
        file_name=f"{config.arch}-{config.model_stem}.pt",
        mime="application/octet-stream",
        data=lambda: checkpoint_bytes(
            job.result.model, config, {"test_accuracy": test.accuracy}, history=job.result.history
        ),
    )


def _why_not_switched_in(job: TrainingJob, in_use: ActiveModel) -> str:
    if job.status == STOPPED:
        return "it was stopped"
    if in_use.dataset != job.config.dataset:
        return f"it learned {DATASETS[job.config.dataset].title}, and the model in use {DATASETS[in_use.dataset].title}"
    return f"it scored {job.result.test.accuracy:.2f}%, below {in_use.test_accuracy:.2f}%"


def run_model(job: TrainingJob) -> ActiveModel:
    """The finished run's model as an entry of the session's model list (the same entry every time)."""
    if job.entry is None:
        config = job.config
        stopped = " (stopped)" if job.status == STOPPED else ""
        digits = f"{config.train_subset:,}" if config.train_subset else "all"
        name = f"Run {job.id[:4]}: {config.arch} on {digits} {DATASETS[config.dataset].items}{stopped}"
        job.entry = ActiveModel(
            job.result.model, config.arch, config.model_stem, name, job.result.test.accuracy, config.dataset
        )
    return job.entry


def adopt_result(job: TrainingJob) -> None:
    """File a finished run's model in this session's list, once per run and session.

    It becomes the model the pages use only if it finished and scores at least as well as the one
    in use on the same data: a Stop, or a worse run, never silently replaces a good model. A run
    stopped before its first step has no model and leaves nothing.
    """
    if job.status not in (DONE, STOPPED) or job.result is None or job.result.test is None:
        return
    if st.session_state.get(keys.ADOPTED_JOB) == job.id:
        return
    st.session_state[keys.ADOPTED_JOB] = job.id
    entry, in_use = run_model(job), active_model()
    better = in_use is None or (in_use.dataset == entry.dataset and (in_use.test_accuracy or 0) <= entry.test_accuracy)
    if job.status == DONE and better:
        set_active_model(entry)
        st.toast(f"Your new model is now in use: {entry.label}")
    else:
        keep_model(entry)
