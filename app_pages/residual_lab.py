"""Residual Lab: why skip connections work, measured live on real digits."""

import streamlit as st

from resnet_core.augment import to_model_input
from resnet_core.data import DatasetUnavailable
from resnet_core.inference import EmptyDrawing, preprocess_canvas
from resnet_core.models import DEPTH_FAMILY
from resnet_core.twins import DepthSweep, TwinRun, default_twin_config
from ui import keys, lab_charts, lab_view
from ui.jobs import FAILED, STOPPED
from ui.lab_jobs import SWEEP, TWIN_RUN, new_owner_token
from ui.models import active_model
from ui.resources import device_locks, lab_registry, shared_lab_data

DIGITS = {"1,000 digits": 1_000, "4,000 digits": 4_000, "10,000 digits": 10_000, "all 60,000 digits": None}
DEFAULT_SWEEP = ["resnet8", "resnet20", "resnet56"]

st.title("Residual Lab")
st.markdown(
    "A **residual block** adds its input back to what it computes: out = relu(F(x) + x). Here you train a "
    "network *with* these shortcuts and its twin *without* them (the same layers, the same first weights, "
    "the same digits in the same order) and measure the difference yourself, now, on real MNIST. "
    "Full-data reference figures: docs/benchmarks.md (Residual Lab)."
)
token = st.session_state.setdefault(keys.LAB_OWNER, new_owner_token())
registry = lab_registry()
c1, c2 = st.columns(2)
digits_label = c1.selectbox("Training digits", list(DIGITS), index=1, help="more digits: longer runs, clearer results")
epochs = int(c2.number_input("Epochs", 1, 5, 1, help="passes over the training digits"))
try:
    data = shared_lab_data(DIGITS[digits_label])
except DatasetUnavailable as err:
    st.error(str(err))
    st.stop()


def depth_label(arch: str) -> str:
    n = int(arch.removeprefix("resnet"))
    return f"{n} layers ({arch})"


st.header("1. Twins: with and without shortcuts")
lab_view.teacher_note(
    "Both networks have exactly the same layers. The only difference: the blue one adds each block's input "
    "back to its output; the orange one does not. Watch which one learns.",
    "the training loss. Deep plain networks train *worse*, not just test worse: that is the "
    "'degradation problem' that residual networks solved.",
)
arch = st.selectbox("Depth", DEPTH_FAMILY, index=DEPTH_FAMILY.index("resnet56"), format_func=depth_label)
twin_key = (TWIN_RUN, arch, DIGITS[digits_label], epochs)
twin_job = registry.get(twin_key)
if twin_job is None or twin_job.status in (STOPPED, FAILED):
    label = "Train the twins" if twin_job is None else "Train the twins again"
    if st.button(label, type="primary", icon=":material/play_arrow:"):
        config = default_twin_config(arch, epochs=epochs)
        twin_job = registry.start(TWIN_RUN, twin_key, lambda: TwinRun(config, data), token, device_locks())
elif twin_job.owner != token:
    st.caption(
        "A run with these settings is already on the server (started by someone in the class): it is shown here."
    )
twin_running = twin_job is not None and not twin_job.finished


@st.fragment(run_every=1.0 if twin_running else None)
def twins_panel() -> None:
    job = registry.get(twin_key)
    if job is None:
        st.info("Press **Train the twins** to start. The default takes under a minute on this computer.")
        return
    snap = job.work.snapshot()
    lab_view.run_status(job, token, snap, "Training both networks")
    st.plotly_chart(lab_charts.twin_curves(snap), key="twin-curves")
    if snap.final:
        lab_view.twins_verdict(snap, arch)
    if twin_running and job.finished:
        st.rerun(scope="app")  # the sections that need the trained twins appear now


twins_panel()

st.header("2. Depth sweep: deeper and deeper")
lab_view.teacher_note(
    "Now train twins of several depths, one pair after another, and compare where each ends up.",
    "whether the orange line rises as the nets get deeper while the blue one does not.",
)
depths = st.multiselect("Depths", DEPTH_FAMILY, default=DEFAULT_SWEEP, format_func=depth_label)
sweep_key = (SWEEP, tuple(sorted(depths, key=DEPTH_FAMILY.index)), DIGITS[digits_label], epochs)
sweep_job = registry.get(sweep_key) if depths else None
if depths and (sweep_job is None or sweep_job.status in (STOPPED, FAILED)):
    if st.button("Run the sweep", icon=":material/stacked_line_chart:"):
        sweep_config = default_twin_config(epochs=epochs)
        make_sweep = lambda: DepthSweep(sweep_key[1], sweep_config, data)  # noqa: E731
        sweep_job = registry.start(SWEEP, sweep_key, make_sweep, token, device_locks())
sweep_running = sweep_job is not None and not sweep_job.finished


@st.fragment(run_every=1.0 if sweep_running else None)
def sweep_panel() -> None:
    job = registry.get(sweep_key) if depths else None
    if job is None:
        st.caption("Choose depths and press **Run the sweep**: ResNet-8, -20 and -56 take about a minute here.")
        return
    points, live = job.work.snapshot()
    lab_view.run_status(job, token, live, f"Depth {len(points) + 1} of {len(job.work.archs)}")
    if points:
        st.plotly_chart(lab_charts.sweep_chart(points), key="sweep-chart")
        lab_view.sweep_verdict(points)


sweep_panel()

st.header("3. Gradient flow: does the signal reach the first layers?")
lab_view.teacher_note(
    "To learn, every layer needs the gradient: a signal that travels backwards from the loss. Each row is "
    "a block (the first at the top), each column a moment in training; the colour is how strong the "
    "signal arrived there.",
    "in the plain net the colour changes from top to bottom (the signal grows or fades on its way back); "
    "in the residual net it stays much more even, because the shortcuts carry it back unchanged.",
)


@st.fragment(run_every=2.0 if twin_running else None)
def gradient_panel() -> None:
    job = registry.get(twin_key)
    snap = job.work.snapshot() if job is not None else None
    if snap is None or not snap.gradients or not snap.gradients["residual"].steps:
        st.caption("Appears as soon as the twins (section 1) start training.")
        return
    st.plotly_chart(lab_charts.gradient_heatmaps(snap.gradients), key="gradient-heatmap")
    lab_view.gradient_verdict(snap)


gradient_panel()

trained = twin_job is not None and twin_job.finished and twin_job.work.final is not None
st.header("4. Inside a block")
lab_view.teacher_note(
    "A block's output is its input x plus a correction F(x). Here are the three side by side, on one colour scale.",
    "in the residual net F(x) is usually faint next to x: each block only nudges the picture, so the bars "
    "below (the size of F(x) compared with x) stay low.",
)
nets = dict(twin_job.work.nets) if trained else {}
active = active_model()
if active is not None:
    nets[f"active model ({active.arch})"] = active.model
if not nets:
    st.caption("Train the twins (section 1) first, or train or load a model on the other pages.")
else:
    sources = (["Current drawing"] if st.session_state.get(keys.DRAWING) is not None else []) + ["Test digit"]
    source = st.radio("Input", sources, horizontal=True, key="anatomy-input")
    x = None
    if source == "Current drawing":
        try:
            x = preprocess_canvas(st.session_state[keys.DRAWING]).tensor
        except EmptyDrawing as err:
            st.info(f"{err} (on the Draw & Predict page)")
    else:
        index = st.slider("Test digit", 0, len(data.test_labels) - 1, 0, key="anatomy-digit")
        x = to_model_input(data.test_uint8[index : index + 1])
    if x is not None:
        lab_view.block_inspector(nets, x)

st.header("5. Lesion study: take a block out")
lab_view.teacher_note(
    "What happens if we remove one block from a trained network? In the residual net the shortcut still "
    "carries the signal past the gap; in the plain net there is nothing to carry it.",
    "the residual net (blue) should barely notice most removals; the plain net (orange) should collapse "
    "(Veit et al. 2016). Dashed lines: accuracy with nothing removed.",
)
if not trained:
    st.caption("Train the twins (section 1) first.")
else:
    lab_view.lesion_section(twin_job, data)

st.header("6. The loss landscape, one slice")
lab_view.teacher_note(
    "Training walks downhill on a landscape of loss. Here we step away from where each net ended up, "
    "in one random direction, and measure the loss along the way (Li et al. 2018).",
    "a wide, smooth valley means small changes to the weights do little harm; a narrow or jagged one "
    "means they do a lot. Li et al. found plain nets' valleys grow chaotic with depth.",
)
if not trained:
    st.caption("Train the twins (section 1) first.")
else:
    lab_view.loss_slice_section(twin_job, data)
