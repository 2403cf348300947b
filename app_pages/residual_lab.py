"""Residual Lab: why skip connections work, measured live on real digits."""

import streamlit as st

from resnet_core.data.datasets import DatasetUnavailable
from resnet_core.depth_study.twins import DepthSweep, TwinRun, default_twin_config
from resnet_core.networks.resnet import DEPTH_FAMILY
from ui import widget_state
from ui.jobs.session import SWEEP, TWINS, session_job, session_token
from ui.lab import sections as lab_sections
from ui.lab import settings as lab_settings
from ui.lab import view as lab_view
from ui.lab.in_advance import lab_job
from ui.lab.works import SweepWork, TwinWork
from ui.models.model_list import active_model
from ui.page_end import end_page
from ui.resources import shared_lab_data
from ui.teacher_note import teacher_note


def depth_label(arch: str) -> str:
    return f"{arch.removeprefix('resnet')} layers ({arch})"


st.title("Residual Lab")
st.markdown(
    "A **residual block** adds its input back to what it computes: out = relu(F(x) + x). Here you train a "
    "network *with* these shortcuts and its twin *without* them (the same layers, the same first weights, "
    "the same digits in the same order) and measure the difference on real MNIST. With the settings below, "
    "every section opens on results measured in advance, so nobody waits; **Run it live** trains them again "
    "here, and other settings train new ones."
)
token = session_token()
# A run the page URL names (a reload, or a classmate's link) opens with its own settings.
linked = [job.key for job in (session_job(TWINS), session_job(SWEEP)) if job is not None]
widget_state.set_defaults(lab_settings.defaults(linked))
c1, c2 = st.columns(2)
digits = c1.selectbox("Training digits", list(lab_settings.DIGITS), key="lab:digits", help="more digits: longer runs")
epochs = int(c2.number_input("Epochs", 1, 5, key="lab:epochs", help="passes over the training digits"))
try:
    data = shared_lab_data(lab_settings.DIGITS[digits])
except DatasetUnavailable as err:
    st.error(str(err))
    end_page()

st.header("1. Twins: with and without shortcuts")
teacher_note(
    "Both networks have exactly the same layers. The only difference: the blue one adds each block's input "
    "back to its output; the orange one does not. Watch which one learns.",
    "the training loss. Deep plain networks train *worse*, not just test worse: that is the "
    "'degradation problem' that residual networks solved.",
)
arch = st.selectbox("Depth", DEPTH_FAMILY, key="lab:depth", format_func=depth_label)
twin_key = lab_settings.twin_key(arch, digits, epochs)
config = default_twin_config(arch, epochs=epochs)
twin_job = lab_sections.start_controls(
    lab_job(TWINS, twin_key), TWINS, twin_key, "Train the twins", lambda: TwinWork(TwinRun(config, data)), True
)
twin_running = twin_job is not None and not twin_job.finished
lab_sections.twins_panel(twin_key, arch, token, twin_running)

st.header("2. Depth sweep: deeper and deeper")
teacher_note(
    "Now train twins of several depths, one pair after another, and compare where each ends up.",
    "whether the orange line rises as the nets get deeper while the blue one does not.",
)
depths = sorted(
    st.multiselect("Depths", DEPTH_FAMILY, key="lab:depths", format_func=depth_label), key=DEPTH_FAMILY.index
)
if not depths:
    st.caption("Choose at least one depth to sweep.")
else:
    sweep_key = lab_settings.sweep_key(depths, digits, epochs)
    sweep_config = default_twin_config(epochs=epochs)
    sweep_job = lab_sections.start_controls(
        lab_job(SWEEP, sweep_key),
        SWEEP,
        sweep_key,
        "Run the sweep",
        lambda: SweepWork(DepthSweep(depths, sweep_config, data)),
        primary=False,
    )
    lab_sections.sweep_panel(sweep_key, token, sweep_job is not None and not sweep_job.finished)

st.header("3. Gradient flow: does the signal reach the first layers?")
teacher_note(
    "To learn, every layer needs the gradient: a signal that travels backwards from the loss. Each row is "
    "a block (the first at the top), each column a moment in training; the colour is how strong the "
    "signal arrived there.",
    "in the plain net the colour changes a lot from top to bottom (the signal grows or fades on its way "
    "back); in the residual net it changes far less, because the shortcuts carry it back past every block.",
)
lab_sections.gradient_panel(twin_key, twin_running)

trained = twin_job.work.twins if twin_job is not None and twin_job.finished and twin_job.work.twins.final else None
st.header("4. Inside a block")
teacher_note(
    "A block's output is its input x plus a correction F(x). Here are the three side by side, on one colour scale.",
    "in the residual net F(x) grows fainter next to x in the later blocks of each stage: those blocks only "
    "nudge the picture, so their bars below (the size of F(x) compared with x) are low. The plain net's stay high.",
)
lab_sections.block_section(trained, active_model())

st.header("5. Lesion study: take a block out")
teacher_note(
    "What happens if we remove one block from a trained network? In the residual net the shortcut still "
    "carries the signal past the gap; in the plain net there is nothing to carry it.",
    "Veit et al. (2016) found that a trained residual net (blue) survives most single removals while a plain "
    "one (orange) collapses. Dashed lines: accuracy with nothing removed. Compare with what this run shows.",
)
if trained:
    lab_view.lesion_section(trained)
else:
    st.caption("Train the twins (section 1) first.")

st.header("6. The loss landscape, one slice")
teacher_note(
    "Training walks downhill on a landscape of loss. Here we step away from where each net ended up, "
    "in one random direction, and measure the loss along the way (Li et al. 2018).",
    "a wide, smooth valley means small changes to the weights do little harm; a narrow or jagged one "
    "means they do a lot. Li et al. found plain nets' valleys grow chaotic with depth.",
)
if trained:
    lab_view.loss_slice_section(trained)
else:
    st.caption("Train the twins (section 1) first.")
