"""The Residual Lab's live sections: starting a run (or finding the class's), and panels that poll it."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from resnet_core.depth_study.twins import TwinRun
from resnet_core.training.progress import format_duration
from ui import widget_state
from ui.caches import latest_per
from ui.charts import NO_TOOLBAR
from ui.input_picker import drawing_or_test_image
from ui.jobs.job import FAILED, QUEUED, STOPPED, Job, Work
from ui.jobs.session import SWEEP, TWINS, start_job
from ui.jobs.status_view import job_status, poll_seconds, rerun_once_started
from ui.lab import charts as lab_charts
from ui.lab import view as lab_view
from ui.lab.in_advance import estimated_seconds, lab_job, measured_in_advance, what_opens_at_once
from ui.lab.works import SweepWork, TwinWork
from ui.models.model_list import ModelEntry


def start_controls(
    job: Job | None, slot: str, key: tuple, label: str, make_work: Callable[[], Work], primary: bool
) -> Job | None:
    """The start button when there is nothing to show for these settings (or only a stopped or failed run),
    and "Run it live" beside results measured in advance."""
    live = not measured_in_advance(job)
    if job is not None and job.status not in (STOPPED, FAILED) and live:
        return job
    # Its time as measured in advance, or scaled from those runs: what the teacher's limit on a student's run weighs.
    if not live:
        seconds = job.work.in_advance.seconds(job.work.archs)
        label, primary = "Run it live", False
        help = f"trains it here, now, with these settings: it took {format_duration(seconds)} when measured in advance"
    else:
        seconds = estimated_seconds(slot, key)
        label = label + ("" if job is None else " again")
        help = None if seconds is None else f"about {format_duration(seconds)} on the machine that measured the lab"
    if st.button(label, type="primary" if primary else "secondary", icon=":material/play_arrow:", help=help):
        if start_job(slot, make_work(), key=key, estimated_seconds=seconds):
            st.rerun()  # draw the page for the started run: progress and Stop instead of this button
    if live and job is None and seconds is not None:
        st.caption(
            f"Not measured in advance: training these takes about {format_duration(seconds)} (scaled from the runs "
            f"timed in advance, per layer, digit and epoch). Results open at once for {what_opens_at_once()}."
        )
    return job


def _stopped_note(job: Job) -> None:
    if job.status == STOPPED:
        st.caption("This run was stopped early: what is shown is what it trained until then.")


def _in_advance_note(job: Job) -> None:
    ref = job.work.in_advance
    st.caption(
        f"Measured in advance on {ref.machine} ({ref.made}), with these settings: shown at once, so the lesson "
        "need not wait. **Run it live** trains it again here, for those who want to watch it happen."
    )


def _poll(slot: str, key: tuple, token: str, running: bool) -> float | None:
    job = lab_job(slot, key)
    return poll_seconds(job, token) if running and job is not None else None


def chart_pair(figures, name: str) -> None:
    """Loss and accuracy side by side; a phone stacks the columns, so each chart keeps the screen's width."""
    for column, figure, part in zip(st.columns(2), figures, ("loss", "accuracy"), strict=True):
        column.plotly_chart(figure, key=f"{name}-{part}", config=NO_TOOLBAR)


def twins_panel(key: tuple, arch: str, token: str, running: bool) -> None:
    started = lab_job(TWINS, key)
    waiting = running and started is not None and started.status == QUEUED

    @widget_state.fragment(run_every=_poll(TWINS, key, token, running))
    def panel() -> None:
        job = lab_job(TWINS, key)
        if job is None:
            st.info("Press **Train the twins** to start. Once it runs, the bar shows the time left.")
            return
        work: TwinWork = job.work
        snap = work.snapshot()
        job_status(job, token)
        _stopped_note(job)
        if measured_in_advance(job):
            _in_advance_note(job)
        # One figure per change of the run, shared by everyone watching it.
        figures = latest_per(work.twins, "curves", work.twins.updates, lambda: lab_charts.twin_curves(snap))
        chart_pair(figures, "twin")
        if snap.final:
            where = work.in_advance.machine if work.in_advance else None
            lab_view.twins_verdict(snap, arch, len(work.twins.data.test_labels), where)
        if running and job.finished:
            st.rerun(scope="app")  # the sections that need the trained twins appear now
        rerun_once_started(waiting, job)

    panel()


def sweep_panel(key: tuple, token: str, running: bool) -> None:
    @widget_state.fragment(run_every=_poll(SWEEP, key, token, running))
    def panel() -> None:
        job = lab_job(SWEEP, key)
        if job is None:
            st.caption("Press **Run the sweep**. Once it runs, the bar shows the time left for the whole sweep.")
            return
        work: SweepWork = job.work
        points, _ = work.sweep.snapshot()
        job_status(job, token)
        _stopped_note(job)
        if measured_in_advance(job):
            _in_advance_note(job)
        if points:
            chart_pair(lab_charts.sweep_chart(points), "sweep")
            lab_view.sweep_verdict(points, len(work.sweep.archs))

    panel()


def gradient_panel(key: tuple, running: bool) -> None:
    @widget_state.fragment(run_every=2.0 if running else None)
    def panel() -> None:
        job = lab_job(TWINS, key)
        snap = job.work.snapshot() if job is not None else None
        if snap is None or not snap.gradients or not snap.gradients["residual"].steps:
            st.caption("Appears as soon as the twins (section 1) start training.")
            return
        twins = job.work.twins
        figure = latest_per(twins, "gradients", twins.updates, lambda: lab_charts.gradient_heatmaps(snap.gradients))
        st.plotly_chart(figure, key="gradient-heatmap", config=NO_TOOLBAR)
        lab_view.gradient_verdict(snap)

    panel()


def block_section(twins: TwinRun | None, active: ModelEntry | None) -> None:
    """Choose a net (the trained twins, the model in use) and an input, then look inside its blocks."""
    nets = dict(twins.nets) if twins is not None else {}
    if active is not None:
        nets[f"model in use ({active.arch})"] = active.model
    if not nets:
        st.caption("Train the twins (section 1) first, or train or load a model on the other pages.")
        return
    x = drawing_or_test_image("mnist", name="anatomy")
    if x is not None:
        lab_view.block_inspector(nets, x)
