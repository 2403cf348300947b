"""Train: choose the settings, train off the script thread, watch it live, keep the result."""

import streamlit as st
import torch

from resnet_core.config import SCHEDULERS, TrainConfig
from resnet_core.data import DATASETS, DatasetUnavailable
from resnet_core.models import ARCHITECTURES, STEMS
from resnet_core.precision import PRECISIONS
from ui import keys, training_view
from ui.jobs import TrainingJob
from ui.resources import missing_data_message, test_split
from ui.session_job import start_job

SUBSETS = {
    "1,000 images (seconds)": 1_000,
    "5,000 images (~1 minute)": 5_000,
    "10,000 images": 10_000,
    "all 60,000 images": None,
}
DEVICES = ["auto", "cpu"] + (["cuda"] if torch.cuda.is_available() else [])

st.title("Train")
job: TrainingJob | None = st.session_state.get(keys.TRAINING_JOB)
busy = job is not None and not job.finished
problem = missing_data_message("mnist")
if problem:
    st.warning(
        "**The MNIST files are not on this machine yet.** Start will try to download them "
        "(this needs internet). Offline, provide them as described here:\n\n" + problem.replace("\n", "\n\n")
    )

with st.form("settings", border=True):
    c1, c2, c3, c4 = st.columns(4)
    arch = c1.selectbox("Network", list(ARCHITECTURES))
    stem = c2.selectbox(
        "Stem",
        [None, *STEMS],
        format_func=lambda s: "the network's own" if s is None else f"{s} ({STEMS[s].size})",
        help="The first layer, before the residual blocks. imagenet shrinks a digit to 7×7; medium keeps "
        "14×14 and small 28×28: nicer maps to look at, several times slower to train "
        "(the Architecture page shows each stem's multiply-adds). The network's own: imagenet for "
        "ResNet-18 to -152, small for the depth family ResNet-8 to -110.",
    )
    dataset = c3.selectbox("Dataset", list(DATASETS), format_func=lambda d: DATASETS[d].title)
    subset = c4.selectbox("Training set", list(SUBSETS), index=1)
    c1, c2, c3, c4 = st.columns(4)
    epochs = c1.number_input("Epochs", 1, 50, 1)
    batch_size = c2.selectbox("Batch size", [32, 64, 128, 256, 512], index=2)
    lr = c3.select_slider(
        "Learning rate", [1e-4, 3e-4, 1e-3, 2e-3, 3e-3, 1e-2], value=3e-3, format_func=lambda v: f"{v:g}"
    )
    weight_decay = c4.select_slider("Weight decay", [0.0, 1e-5, 1e-4, 1e-3], value=1e-4, format_func=lambda v: f"{v:g}")
    c1, c2, c3, c4 = st.columns(4)
    scheduler = c1.selectbox(
        "Schedule",
        SCHEDULERS,
        index=SCHEDULERS.index("onecycle"),
        help="How the learning rate changes. step: ×0.1 every 7 epochs (the classic recipe); onecycle: "
        "rises, then falls to almost zero, with label smoothing 0.1 (the fast recipe); constant: never changes",
    )
    device = c2.selectbox("Device", DEVICES, help="auto picks a GPU when there is one")
    precision = c3.selectbox(
        "Arithmetic",
        PRECISIONS,
        help="fp32: ordinary 32-bit numbers. bf16: 16-bit numbers, faster on GPUs and on some CPUs, a little "
        "less exact. auto: bf16 on a GPU, fp32 on a CPU.",
    )
    augment = c4.toggle("Augmentation", value=True, help="random rotation ±10° and shift ±10%")
    zero_init = st.toggle(
        "Blocks start as identity",
        value=False,
        help="Each block starts by passing its input on unchanged (F(x) = 0, so out = x) and learns its "
        "correction from there. In our measured runs it helped ResNet-50, not ResNet-18 or -34.",
    )
    start = st.form_submit_button("Start training", type="primary", disabled=busy, icon=":material/play_arrow:")

if start:
    try:
        test_split(dataset)  # fail here, with the remedy, rather than in the worker
        config = TrainConfig(
            arch=arch,
            stem=stem,
            dataset=dataset,
            epochs=int(epochs),
            batch_size=batch_size,
            lr=lr,
            weight_decay=weight_decay,
            scheduler=scheduler,
            augment=augment,
            zero_init_residual=zero_init,
            train_subset=SUBSETS[subset],
            device=device,
            precision=precision,
            label_smoothing=0.1 if scheduler == "onecycle" else 0.0,
        )
    except (DatasetUnavailable, ValueError) as err:
        st.error(str(err))
        st.stop()
    job = start_job(config)
    busy = True

if job is None:
    st.info("Choose the settings and press **Start training**. The defaults train a ResNet-18 on 5,000 digits.")
    st.stop()


# Once a second: on a 2-core machine with the browser beside it, polling twice a second
# cost a third of the training speed (180 vs 270 images/s; 500 with no page open).
@st.fragment(run_every=1.0 if busy else None)
def job_panel() -> None:
    current: TrainingJob = st.session_state[keys.TRAINING_JOB]
    if not current.finished:
        if st.button("Stop", icon=":material/stop:", help="ends training after the current step and keeps the weights"):
            current.stop()
        training_view.live_progress(current)
        training_view.curves(current)
        return
    if busy:  # it just ended: rerun the whole app, which adopts the new model before drawing the sidebar
        st.rerun(scope="app")
    training_view.live_progress(current)
    training_view.curves(current)
    training_view.results(current)


job_panel()
