"""Train: choose the settings, train off the script thread, watch it live, keep the result."""

import streamlit as st

from resnet_core.data.datasets import DATASETS, DatasetUnavailable
from resnet_core.networks.resnet import ARCHITECTURES, STEMS
from resnet_core.training.config import SCHEDULERS, TrainConfig
from resnet_core.training.precision import PRECISIONS
from resnet_core.training.progress import format_duration
from ui import keys
from ui.jobs.session import session_token, start_job
from ui.jobs.training_job import TrainingJob
from ui.resources import estimated_run_seconds, missing_data_message, test_split
from ui.training import form as train_form
from ui.training import view as training_view
from ui.training.lengths import CUSTOM, RUN_LENGTHS, RunLength, run_length_label

st.title("Train")
# A past run to repeat (the Runs page) replaces the settings; otherwise each keeps its value or default.
st.session_state.update(st.session_state.pop(keys.TRAIN_PREFILL, {}))
for widget, default in train_form.DEFAULTS.items():
    st.session_state.setdefault(widget, default)
job: TrainingJob | None = st.session_state.get(keys.TRAINING_JOB)
token = session_token()
busy = job is not None and not job.finished and job.owner == token  # one run of one's own at a time
problem = missing_data_message("mnist")
if problem:
    st.warning(
        "**The MNIST files are not on this machine yet.** Start will try to download them "
        "(this needs internet). Offline, provide them as described here:\n\n" + problem.replace("\n", "\n\n")
    )

# While a run goes, its curves matter more than the settings that started it: fold them away.
running = job is not None and not job.finished
if job is None:
    settings_label = "Settings"
elif running:
    settings_label = f"Settings of the run in progress: {training_view.summary(job.config)}"
else:  # the results come first; the settings open for the next run
    settings_label = f"Settings (last run: {training_view.summary(job.config)}): open to train again"
with st.expander(
    settings_label,
    expanded=job is None,
    icon=":material/tune:",
):
    # How long and Start come first (filled in below, once the settings they depend on are read):
    # on a phone the settings are a long column, and most students keep their defaults.
    length_and_start = st.container()
    st.markdown("**Network, data and learning**")
    c1, c2, c3, c4 = st.columns(4)
    arch = c1.selectbox("Network", list(ARCHITECTURES), key="train:arch")
    stem = c2.selectbox(
        "Stem",
        [None, *STEMS],
        key="train:stem",
        format_func=lambda s: "the network's own" if s is None else STEMS[s].description,
        help="The first layer, before the residual blocks. imagenet shrinks a digit to 7×7; medium keeps "
        "14×14 and small 28×28: nicer maps to look at, several times slower to train "
        "(the Architecture page shows each stem's multiply-adds). The network's own: imagenet for "
        "ResNet-18 to -152, small for the depth family ResNet-8 to -110.",
    )
    dataset = c3.selectbox("Dataset", list(DATASETS), format_func=lambda d: DATASETS[d].title, key="train:dataset")
    c1, c2, c3, c4 = st.columns(4)
    batch_size = c1.selectbox(
        "Batch size", train_form.BATCH_SIZES, key="train:batch_size", help="digits per training step"
    )
    lr = c2.select_slider(
        "Learning rate",
        train_form.LEARNING_RATES,
        key="train:lr",
        format_func=lambda v: f"{v:g}",
        help="How big a step the weights take after each batch: too small learns slowly, too large jumps about.",
    )
    weight_decay = c3.select_slider(
        "Weight decay",
        train_form.WEIGHT_DECAYS,
        key="train:weight_decay",
        format_func=lambda v: f"{v:g}",
        help="Pulls every weight a little toward zero at each step, so the network cannot lean on a few huge ones.",
    )
    scheduler = c4.selectbox(
        "Schedule",
        SCHEDULERS,
        key="train:scheduler",
        help="How the learning rate changes during the run. step: 10 times smaller every 7 epochs (the classic "
        "recipe); onecycle: rises, then falls to almost zero, and the network is taught to be a little less "
        "than 100% sure of each answer (the fast recipe); constant: never changes.",
    )
    c1, c2, c3, c4 = st.columns(4)
    device = c1.selectbox("Device", train_form.DEVICES, key="train:device", help="auto picks a GPU when there is one")
    precision = c2.selectbox(
        "Arithmetic",
        PRECISIONS,
        key="train:precision",
        help="fp32: ordinary 32-bit numbers. bf16: 16-bit numbers, faster on GPUs and on some CPUs, a little "
        "less exact. auto: bf16 on a GPU, fp32 on a CPU.",
    )
    augment = c3.toggle("Augmentation", key="train:augment", help="random rotation ±10° and shift ±10%")
    zero_init = c4.toggle(
        "Blocks start as identity",
        key="train:zero_init",
        help="Each block starts by passing its input on unchanged (F(x) = 0, so out = x) and learns its "
        "correction from there. In our measured runs it helped ResNet-50, not ResNet-18 or -34.",
    )
    settings = TrainConfig(
        arch=arch,
        stem=stem,
        dataset=dataset,
        batch_size=batch_size,
        lr=lr,
        weight_decay=weight_decay,
        scheduler=scheduler,
        augment=augment,
        zero_init_residual=zero_init,
        device=device,
        precision=precision,
        label_smoothing=0.1 if scheduler == "onecycle" else 0.0,
    )
    with length_and_start:
        length = st.radio(
            "How long",
            [*RUN_LENGTHS, CUSTOM],
            format_func=lambda name: run_length_label(name, settings, estimated_run_seconds),
            horizontal=True,
            key="train:length",
            help="Times are estimated from this network's speed, measured on this machine.",
        )
        if length == CUSTOM:
            c1, c2 = st.columns(2)
            digits = c1.select_slider("Training digits", train_form.DIGIT_COUNTS, key="train:digits")
            epochs = int(
                c2.number_input("Epochs (passes over the digits)", 1, train_form.MOST_EPOCHS, key="train:epochs")
            )
            config = RunLength(digits, epochs).apply(settings)
            seconds = estimated_run_seconds(config)
            if seconds is not None:
                st.caption(f"About {format_duration(seconds)} on this machine.")
        else:
            config = RUN_LENGTHS[length].apply(settings)
        start = st.button("Start training", type="primary", disabled=busy, icon=":material/play_arrow:")

if start:
    try:
        test_split(dataset)  # fail here, with the remedy, rather than in the worker
    except DatasetUnavailable as err:
        st.error(str(err))
        st.stop()
    job = start_job(config, estimated_run_seconds(config))
    busy = True
    st.rerun()  # folds the settings away and shows the run

if job is None:
    st.info(
        "Choose how long to train and press **Start training**. The defaults train a ResNet-18 quickly. "
        "A run that scores at least as well as the model in use takes its place; any other waits in the "
        "sidebar's model list for you to choose it."
    )
    st.stop()


was_running = job is not None and not job.finished


# Once a second: on a 2-core machine with the browser beside it, polling twice a second
# cost a third of the training speed (180 vs 270 images/s; 500 with no page open).
@st.fragment(run_every=1.0 if was_running else None)
def job_panel() -> None:
    current: TrainingJob = st.session_state[keys.TRAINING_JOB]
    current.seen_by(token)
    if not current.finished:
        training_view.stop_control(current, token)
        training_view.live_progress(current)
        training_view.curves(current)
        return
    if was_running:  # it just ended: rerun the whole app, which files the new model before drawing the sidebar
        st.rerun(scope="app")
    training_view.live_progress(current)
    training_view.curves(current)
    training_view.results(current)


job_panel()
