"""Teacher: every run on the server with Stop for each, and the limits students' runs must fit."""

import time

import streamlit as st

from resnet_core.devices import select_device
from resnet_core.training.progress import format_duration
from ui import teacher, widget_state
from ui.jobs.device_queue import device_queues
from ui.jobs.job import QUEUED, Job
from ui.jobs.registry import jobs
from ui.jobs.session import session_token
from ui.lab.works import SweepWork, TwinWork
from ui.page_end import end_page
from ui.training.view import summary
from ui.training.work import TrainingWork

st.title("Teacher")
if not teacher.is_teacher():
    st.warning("This page is the teacher's: enter the teacher code under **Teacher** in the sidebar.")
    end_page()

token = session_token()


def _what(job: Job) -> str:
    work = job.work
    if isinstance(work, TrainingWork):
        return f"Training: {summary(work.config)}"
    if isinstance(work, TwinWork):
        return f"Residual Lab: {work.twins.config.arch} and its plain twin"
    if isinstance(work, SweepWork):
        return f"Residual Lab: depth sweep over {', '.join(work.sweep.archs)}"
    return work.kind


def _where(job: Job) -> str:
    if job.status == QUEUED:
        ahead = device_queues.for_device(select_device(job.work.device)).ahead_of(job)
        return f"waiting, number {len(ahead) + 1} in line"
    left = job.seconds_left()
    return "running" + (f", about {format_duration(left)} left" if left is not None else "")


def _whose(job: Job) -> str:
    if job.owner == token:
        return "yours"
    return "a student's, who has left" if job.owner_gone() else "a student's"


@widget_state.fragment(run_every=2.0)
def runs_panel() -> None:
    going = [job for job in jobs.newest_first() if not job.finished]
    st.subheader("Runs on this server")
    if not going:
        st.caption("No run is going or waiting.")
        return
    for job in reversed(going):  # oldest first: the order of the line
        since = format_duration(time.monotonic() - job.started)
        when = f"asked for {since} ago" if job.status == QUEUED else f"started {since} ago"
        text, stop = st.columns([5, 1], vertical_alignment="center")
        text.markdown(f"**{_what(job)}** · {_whose(job)} · {_where(job)} · {when}")
        if job.stop_event.is_set():
            stop.caption("Stopping…")
        elif stop.button("Stop", key=f"teacher-stop-{job.id}", icon=":material/stop:"):
            job.stop(token, teacher=True)
            st.rerun(scope="fragment")
    waiting = [job for job in going if job.status == QUEUED and not job.stop_event.is_set()]
    if waiting and st.button(f"Clear the line ({len(waiting)} waiting)", icon=":material/clear_all:"):
        for job in waiting:
            job.stop(token, teacher=True)
        st.rerun(scope="fragment")


runs_panel()

st.subheader("Limits for students' runs")
st.caption("Your own runs are not limited. A run over the limits is refused before it starts, with the reason.")
limits = teacher.limits
minutes = st.number_input(
    "Longest run a student may start (minutes, as this computer's speed predicts)",
    min_value=1,
    max_value=240,
    value=int(limits.student_minutes),
)
runs = st.number_input(
    "Runs a student may have going or waiting at once", min_value=1, max_value=5, value=limits.runs_per_student
)
limits.student_minutes, limits.runs_per_student = float(minutes), int(runs)
