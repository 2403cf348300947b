"""The Residual Lab's live sections: starting a run (or finding the class's), and panels that poll it."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from resnet_core.data.augment import to_model_input
from resnet_core.depth_study.twins import DepthSweep, LabData, TwinRun
from resnet_core.digits.preprocess import EmptyDrawing, preprocess_canvas
from ui import keys
from ui.charts import NO_TOOLBAR
from ui.jobs.lab_job import LabJob
from ui.jobs.training_job import FAILED, STOPPED
from ui.lab import charts as lab_charts
from ui.lab import view as lab_view
from ui.resources import device_locks, lab_registry


def find_run(key: tuple, session_key: str) -> LabJob | None:
    """The run with these settings: the server's (maybe a classmate's), else this session's last one.

    The server keeps only the newest finished runs; a session keeps its own last run of each kind.
    """
    job = lab_registry().get(key)
    mine = st.session_state.get(session_key)
    if job is None and mine is not None and mine.key == key:
        job = mine
    return job


def start_controls(
    job: LabJob | None, key: tuple, session_key: str, label: str, make_work: Callable, token: str, primary: bool
) -> LabJob | None:
    """The start button when there is nothing to show for these settings (or only a stopped or failed run)."""
    if job is not None and job.status not in (STOPPED, FAILED):
        return job
    again = "" if job is None else " again"
    if st.button(label + again, type="primary" if primary else "secondary", icon=":material/play_arrow:"):
        job = lab_registry().start(key[0], key, make_work, token, device_locks())
        st.session_state[session_key] = job
        st.rerun()  # draw the page for the started run: progress and Stop instead of this button
    return job


def twins_panel(key: tuple, arch: str, token: str, running: bool) -> None:
    @st.fragment(run_every=1.0 if running else None)
    def panel() -> None:
        job = find_run(key, keys.LAB_TWINS)
        if job is None:
            st.info("Press **Train the twins** to start. Once it runs, the bar shows the time left.")
            return
        snap = job.work.snapshot()
        lab_view.run_status(job, token, snap, "Training both networks")
        st.plotly_chart(lab_charts.twin_curves(snap), key="twin-curves", config=NO_TOOLBAR)
        if snap.final:
            lab_view.twins_verdict(snap, arch)
        if running and job.finished:
            st.rerun(scope="app")  # the sections that need the trained twins appear now

    panel()


def sweep_panel(key: tuple, token: str, running: bool) -> None:
    @st.fragment(run_every=1.0 if running else None)
    def panel() -> None:
        job = find_run(key, keys.LAB_SWEEP)
        if job is None:
            st.caption("Press **Run the sweep**. Once it runs, the bar shows the time left for each depth.")
            return
        sweep: DepthSweep = job.work
        points, live = sweep.snapshot()
        depth = f"Depth {min(len(points) + 1, len(sweep.archs))} of {len(sweep.archs)}"
        lab_view.run_status(job, token, live, depth, scope=" for this depth")
        if points:
            st.plotly_chart(lab_charts.sweep_chart(points), key="sweep-chart", config=NO_TOOLBAR)
            lab_view.sweep_verdict(points)

    panel()


def gradient_panel(key: tuple, running: bool) -> None:
    @st.fragment(run_every=2.0 if running else None)
    def panel() -> None:
        job = find_run(key, keys.LAB_TWINS)
        snap = job.work.snapshot() if job is not None else None
        if snap is None or not snap.gradients or not snap.gradients["residual"].steps:
            st.caption("Appears as soon as the twins (section 1) start training.")
            return
        st.plotly_chart(lab_charts.gradient_heatmaps(snap.gradients), key="gradient-heatmap", config=NO_TOOLBAR)
        lab_view.gradient_verdict(snap)

    panel()


def block_section(twins: TwinRun | None, data: LabData, active) -> None:
    """Choose a net (the trained twins, the active model) and an input, then look inside its blocks."""
    nets = dict(twins.nets) if twins is not None else {}
    if active is not None:
        nets[f"model in use ({active.arch})"] = active.model
    if not nets:
        st.caption("Train the twins (section 1) first, or train or load a model on the other pages.")
        return
    sources = (["Current drawing"] if st.session_state.get(keys.DRAWING) is not None else []) + ["Test digit"]
    source = st.radio("Input", sources, horizontal=True, key="anatomy-input")
    if source == "Current drawing":
        try:
            x = preprocess_canvas(st.session_state[keys.DRAWING]).tensor
        except EmptyDrawing as err:
            st.info(f"{err} (on the Draw & Predict page)")
            return
    else:
        index = st.slider("Test digit number", 0, len(data.test_labels) - 1, 0, key="anatomy-digit")
        st.caption(f"Test digit #{index} of the lab's {len(data.test_labels):,}: a {int(data.test_labels[index])}.")
        x = to_model_input(data.test_uint8[index : index + 1])
    lab_view.block_inspector(nets, x)
