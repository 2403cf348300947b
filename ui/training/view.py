"""Drawing a training job on the Train page: live progress while it runs, results when it ends."""

from __future__ import annotations

import math
import time

import streamlit as st

from resnet_core.data.datasets import DATASETS
from resnet_core.files.checkpoints import checkpoint_bytes, save_checkpoint
from resnet_core.training.config import smoothed_target
from ui import charts, keys
from ui.caches import latest_per
from ui.confusion_view import confusion_section
from ui.jobs.job import DONE, STOPPED, Job
from ui.models.model_list import ModelEntry, active_model, checkpoint_dir, keep_model, set_active_model
from ui.teacher import is_teacher
from ui.training.work import TrainingWork


def network(config) -> str:
    """The run's network in words: "resnet8", or "resnet8 without shortcuts" for its plain twin."""
    return config.arch if config.residual else f"{config.arch} without shortcuts"


def summary(config) -> str:
    """One line for a run's settings: "resnet18, 2,000 digits × 5 passes, batch 128"."""
    digits = f"{config.train_subset:,}" if config.train_subset else "all"
    passes = "1 pass" if config.epochs == 1 else f"{config.epochs} passes"
    return f"{network(config)}, {digits} {DATASETS[config.dataset].items} × {passes}, batch {config.batch_size}"


def live_metrics(work: TrainingWork) -> None:
    """Images/s, training loss and validation accuracy as last reported (dashes before the first report)."""
    last = work.steps[-1] if work.steps else None
    cols = st.columns(3)
    cols[0].metric("Images / s", f"{last.images_per_second:,.0f}" if last else "–")
    cols[1].metric(
        "Train loss, latest steps",
        f"{last.loss:.3f}" if last else "–",
        help="the light line's last point; the darker dot for a pass averages the whole pass, early steps included",
    )
    val = work.checks[-1].val_acc if work.checks else None
    cols[2].metric("Validation accuracy", f"{val:.2f}%" if val is not None else "–")


def curves(work: TrainingWork) -> None:
    if not work.steps:  # empty axes would only puzzle: the progress bar says what is happening
        return
    # One figure per new point, shared by everyone watching the run.
    steps, epochs, checks = list(work.steps), list(work.epochs), list(work.checks)
    figure = latest_per(
        work, "curves", (len(steps), len(epochs), len(checks)), lambda: charts.training_curves(steps, epochs, checks)
    )
    st.plotly_chart(figure, key="training-curves", config=charts.NO_TOOLBAR)
    st.caption(why_training_looks_worse(work.config))


def why_training_looks_worse(config) -> str:
    """Why the training curves sit below the validation ones, from the run's own settings."""
    classes = len(DATASETS[config.dataset].classes)
    digits = "augmented digits" if config.augment else "the digits"
    said = (
        f"The training figures are averaged over each pass on {digits}, while the network was still learning; "
        "validation is measured at each check, in test mode."
    )
    smoothing = config.label_smoothing
    if smoothing > 0:
        sure, other = smoothed_target(smoothing, classes), smoothing / classes
        floor = -sure * math.log(sure) - (classes - 1) * other * math.log(other)  # the smoothed targets' entropy
        said += (
            f" The training loss is measured against targets only {sure:.0%} sure of the right class (label "
            f"smoothing), so it cannot fall below {floor:.2f}."
        )
    return said


def results(job: Job, token: str) -> None:
    """A finished run's test, its model's place in the list, the confusion matrix, Save and Download."""
    work: TrainingWork = job.work
    if not work.has_model:  # failed (the status says why), or stopped before its first step
        if job.status == STOPPED:
            who = "The teacher stopped this run" if job.stopped_by_teacher else "Training was stopped"
            st.warning(f"{who} before its first step: there is no model to show.")
        return
    test, config, result = work.result.test, work.config, work.result
    if job.status == DONE:
        verb, box = "finished", st.success
    else:
        who = "by the teacher" if job.stopped_by_teacher else "early"
        verb, box = f"stopped {who}; the weights so far are kept", st.info
    dataset = DATASETS[config.dataset]
    box(
        f"Training {verb}. Test accuracy **{test.accuracy:.2f}%**, measured once, now, on {len(test.labels):,} "
        f"test {dataset.items} the network never saw (the curves used {config.validation_size:,} training "
        f"{dataset.items} held out for validation)."
    )
    in_use = active_model()
    if in_use is not None and in_use.model is not result.model:
        st.info(
            f"The pages still use **{in_use.label}**: this run was not switched in because "
            + _why_not_switched_in(job, in_use)
            + ". It is kept in the model list in the sidebar."
        )
        if st.button("Use this run's model", icon=":material/swap_horiz:"):
            set_active_model(run_model(job))
            st.rerun(scope="app")
    st.caption(f"Arithmetic: {result.trainer.precision}.")
    confusion_section(test, work.test_images, config.dataset, key="confusion-matrix")
    save, download = st.columns(2)
    # The server's folder is shared: a run is saved once, by whoever started it (or the teacher).
    saving = save.empty()  # the button, then in its place where the run was saved
    if work.saved_to is not None:
        saving.caption(f"Saved on the server as {work.saved_to.name}.")
    elif token == job.owner or is_teacher():
        if saving.button("Save to checkpoints folder", icon=":material/save:"):
            path = checkpoint_dir() / f"{config.arch}-{config.model_stem}-{time.strftime('%Y%m%d-%H%M%S')}.pt"
            try:
                save_checkpoint(
                    path,
                    result.model,
                    config,
                    {"test_accuracy": test.accuracy},
                    epoch=len(work.epochs),
                    history=result.history,
                )
                work.saved_to = path
                saving.caption(f"Saved on the server as {path.name}.")
                st.toast(f"Saved {path}")
            except OSError as err:
                st.error(f"Could not save to {path}: {err.strerror or err}. Use Download instead.")
    download.download_button(
        "Download checkpoint",
        icon=":material/download:",
        file_name=f"{config.arch}-{config.model_stem}.pt",
        mime="application/octet-stream",
        data=lambda: checkpoint_bytes(result.model, config, {"test_accuracy": test.accuracy}, history=result.history),
    )


def _why_not_switched_in(job: Job, in_use: ModelEntry) -> str:
    work: TrainingWork = job.work
    if job.status == STOPPED:
        return "it was stopped"
    if in_use.dataset != work.config.dataset:
        return (
            f"it learned {DATASETS[work.config.dataset].title}, and the model in use {DATASETS[in_use.dataset].title}"
        )
    return f"it scored {work.result.test.accuracy:.2f}%, below {in_use.test_accuracy:.2f}%"


def run_model(job: Job) -> ModelEntry:
    """The finished run's model as an entry of the session's model list (the same entry every time)."""
    work: TrainingWork = job.work
    if work.entry is None:
        config = work.config
        stopped = " (stopped)" if job.status == STOPPED else ""
        digits = f"{config.train_subset:,}" if config.train_subset else "all"
        name = f"Run {job.id[:4]}: {network(config)} on {digits} {DATASETS[config.dataset].items}{stopped}"
        work.entry = ModelEntry(
            work.result.model,
            config.arch,
            config.model_stem,
            name,
            work.result.test.accuracy,
            config.dataset,
            config.label_smoothing,
        )
    return work.entry


def adopt_result(job: Job) -> None:
    """File a finished run's model in this session's list, once per run and session.

    It becomes the model the pages use only if it finished and scores at least as well as the one
    in use on the same data: a Stop, or a worse run, never silently replaces a good model. A run
    stopped before its first step has no model and leaves nothing.
    """
    if job.status not in (DONE, STOPPED) or not job.work.has_model:
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
