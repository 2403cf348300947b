"""Train: choose the settings, train off the script thread, watch it live, keep the result."""

import streamlit as st

from resnet_core.data.datasets import DatasetUnavailable
from resnet_core.devices import select_device
from resnet_core.training.step_memory import too_big_message
from ui import keys, widget_state
from ui.jobs.job import QUEUED
from ui.jobs.session import TRAINING, session_job, session_token, start_job
from ui.jobs.status_view import job_status, poll_seconds, rerun_once_started
from ui.page_end import end_page
from ui.resources import estimated_run_seconds, missing_data_message, test_split
from ui.teacher_note import teacher_note
from ui.training import form as train_form
from ui.training import view as training_view
from ui.training.work import TrainingWork

st.title("Train")
teacher_note(
    "Training shows the network the training digits a batch at a time; after each batch every weight moves a "
    "little in the direction that makes its answers less wrong. One pass over all the digits is an **epoch**.",
    "the loss falling and the accuracy rising, and the validation line: digits held out and never trained on, "
    "so it shows what the network learned rather than what it memorised.",
)
# A past run to repeat (the Runs page) replaces the settings; otherwise each keeps its value or default.
st.session_state.update(st.session_state.pop(keys.TRAIN_PREFILL, {}))
widget_state.set_defaults(train_form.DEFAULTS)
job = session_job(TRAINING)
token = session_token()
running = job is not None and not job.finished
waiting = running and job.status == QUEUED
problem = missing_data_message("mnist")
if problem:
    st.warning(
        "**The MNIST files are not on this machine yet.** Start will try to download them "
        "(this needs internet). Offline, provide them as described here:\n\n" + problem.replace("\n", "\n\n")
    )

# While a run goes, its curves matter more than the settings that started it: fold them away.
if job is None:
    settings_label = "Settings"
elif running:
    settings_label = f"Settings of the run in progress: {training_view.summary(job.work.config)}"
else:  # the results come first; the settings open for the next run
    settings_label = f"Settings (last run: {training_view.summary(job.work.config)}): open to train again"
with st.expander(settings_label, expanded=job is None, icon=":material/tune:"):
    # One run of one's own at a time.
    config, start = train_form.settings_form(busy=running and job.owner == token)

if start:
    try:
        test_split(config.dataset)  # fail here, with the remedy, rather than in the worker
    except DatasetUnavailable as err:
        st.error(str(err))
        end_page()
    too_big = too_big_message(config, select_device(config.device), train_form.BATCH_SIZES)
    if too_big:
        st.error(too_big, icon=":material/memory:")
        st.toast(too_big, icon=":material/memory:")  # on a phone the error can be a screen below the button
    elif start_job(TRAINING, TrainingWork(config), estimated_seconds=estimated_run_seconds(config)):
        st.rerun()  # folds the settings away and shows the run

if job is None:
    st.info(
        "Choose how long to train and press **Start training**. The defaults are the sprint: a ResNet-8 with "
        "shortcuts, once over every training digit, its validation accuracy measured five times on the way. "
        "Switch **Shortcuts** off to train its plain twin. "
        "A run that scores at least as well as the model in use takes its place; any other waits in the "
        "sidebar's model list for you to choose it."
    )
    end_page()


@widget_state.fragment(run_every=poll_seconds(job, token) if running else None)
def job_panel() -> None:
    current = session_job(TRAINING)
    job_status(current, token)
    training_view.live_metrics(current.work)
    training_view.curves(current.work)
    if not current.finished:
        rerun_once_started(waiting, current)
        return
    if running:  # it just ended: rerun the whole app, which files the new model before drawing the sidebar
        st.rerun(scope="app")
    training_view.results(current, token)


job_panel()
