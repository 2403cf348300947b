"""This session's training job: starting it, and finding it again after a reload.

A reload (or a link opened in a new tab) starts a new Streamlit session with empty state;
without this, a run that took minutes would go on training where nobody could see or keep
it. So the job's id rides in the page URL (`?run=<id>`) and the server keeps recent jobs in
ui.resources.job_registry(). The link only shows the run: stopping it takes the starting
session's secret token (ui.jobs.training_job.OwnedRun), which is never in the URL, so a link on the
projector cannot be used to stop the teacher's run.
"""

from __future__ import annotations

import streamlit as st

from resnet_core.training.config import TrainConfig
from ui import keys
from ui.jobs.training_job import TrainingJob, new_owner_token
from ui.resources import device_locks, job_registry

URL_PARAM = "run"


def session_token() -> str:
    """This session's secret: it may stop the runs it started."""
    return st.session_state.setdefault(keys.OWNER_TOKEN, new_owner_token())


def start_job(config: TrainConfig, estimated_seconds: float | None = None) -> TrainingJob:
    job = TrainingJob(config, owner=session_token(), estimated_seconds=estimated_seconds)
    job.start(device_locks())
    job_registry().add(job)
    st.session_state[keys.TRAINING_JOB] = job
    st.query_params[URL_PARAM] = job.id
    return job


def session_job() -> TrainingJob | None:
    """The session's job, or the one the URL names; writes its id back into the URL.

    Streamlit clears query parameters on every page change, so each run puts it back.
    """
    job: TrainingJob | None = st.session_state.get(keys.TRAINING_JOB)
    wanted = st.query_params.get(URL_PARAM)
    if job is None and wanted:
        job = job_registry().get(wanted)
        if job is None:
            del st.query_params[URL_PARAM]
            st.toast(
                "The training run in this link is no longer on the server (it restarted, or let the "
                "run go after newer ones): start a new one, or load a saved checkpoint on Draw & Predict."
            )
            return None
        st.session_state[keys.TRAINING_JOB] = job
    if job is not None and wanted != job.id:
        st.query_params[URL_PARAM] = job.id
    return job
