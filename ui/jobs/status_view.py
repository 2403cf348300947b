"""A job's state as every page shows it: its place in line, a progress bar with the time left, and Stop
for the session that may stop it (or why this one may not)."""

from __future__ import annotations

import streamlit as st

from resnet_core.devices import select_device
from resnet_core.training.progress import format_duration
from ui.jobs.device_queue import device_queues
from ui.jobs.job import FAILED, QUEUED, Job
from ui.teacher import is_teacher


def job_status(job: Job, token: str) -> None:
    """Draw the job's state for the session holding `token`; counts as that session's page seeing the job."""
    job.seen_by(token)
    if job.status == FAILED:
        st.error(job.error)
        return
    if job.finished:
        return
    if job.status == QUEUED:
        if not job.stop_event.is_set():
            st.info(queue_message(job, token))
    else:
        progress = job.work.progress()
        left = job.seconds_left()
        about = f", about {format_duration(left)} left" if left is not None else ""
        st.progress(min(progress.fraction, 1.0), text=progress.text + about)
    stop_control(job, token)


def poll_seconds(job: Job, token: str) -> float:
    """How often a page showing `job` looks for news. Its owner once a second; others, whom a class of
    thirty can be, every two (a run reports every few seconds on a CPU, and each look costs the server
    that trains); a run waiting in line every five."""
    if job.status == QUEUED:
        return 5.0
    return 1.0 if job.owner == token else 2.0


def rerun_once_started(waited: bool, job: Job) -> None:
    """A panel drawn while `job` waited in line polls at the waiting pace; once the run has started, the
    whole page reruns, so that it polls at a running run's pace."""
    if waited and job.status != QUEUED:
        st.rerun(scope="app")


def stop_control(job: Job, token: str) -> None:
    """Stop for the session that started the job; a sentence for everyone else watching it."""
    if job.stop_event.is_set():
        who = "The teacher stopped this run: " if job.stopped_by_teacher else ""
        st.caption(f"{who}Stopping after the current step…")
    elif job.can_stop(token, teacher=is_teacher()):
        if st.button(
            "Stop",
            icon=":material/stop:",
            key=f"stop-{job.id}",
            help="ends it after the current step and keeps what was trained so far",
        ):
            job.stop(token, teacher=is_teacher())
        if token != job.owner and not is_teacher():
            st.caption("The person who started this run has left, so anyone may stop it.")
    else:
        st.caption(
            "Someone else started this run (in another tab or browser): you are watching it, and only they can "
            "stop it. If it was yours before a reload, Stop appears here within 30 seconds."
        )


def _seconds_until_done(job: Job) -> float | None:
    """A job's remaining seconds: measured progress while it runs, else its estimate (None: unknown)."""
    left = job.seconds_left()
    return left if left is not None else job.estimated_seconds


def queue_message(job: Job, token: str) -> str:
    """ "Waiting for the device: 1 run is ahead of yours…", with when it starts where every run ahead knows."""
    ahead = device_queues.for_device(select_device(job.work.device)).ahead_of(job)
    yours = "yours" if token == job.owner else "this one"
    runs = "1 run is" if len(ahead) == 1 else f"{len(ahead)} runs are"
    text = f"Waiting for the device: {runs} ahead of {yours} ({yours} is number {len(ahead) + 1} in line)."
    waits = [_seconds_until_done(other) for other in ahead]
    if ahead and all(wait is not None for wait in waits):
        text += f" {yours.capitalize()} starts in about {format_duration(sum(waits))}"
        text += f" and then takes about {format_duration(job.estimated_seconds)}." if job.estimated_seconds else "."
    return text
