"""Feature Maps: what every layer of the active model saw, channel by channel."""

import numpy as np
import streamlit as st

from resnet_core.augment import denormalize, to_model_input
from resnet_core.data import DATASETS, DatasetUnavailable
from resnet_core.features import (
    channel_grid,
    feature_layer_names,
    feature_maps,
    layer_statistics,
    stage_output_name,
)
from resnet_core.inference import EmptyDrawing, preprocess_canvas
from ui import charts, keys
from ui.model_picker import offer_quick_training
from ui.models import active_model
from ui.resources import test_split

st.title("Feature Maps")
chosen = active_model()
if chosen is None:
    offer_quick_training("load a checkpoint on the Draw & Predict page")
    st.stop()
st.caption(f"Model: {chosen.arch} ({chosen.stem} stem), {chosen.source}")

source_col, layer_col = st.columns([1, 2])
with source_col:
    dataset = DATASETS[chosen.dataset]  # test images from what the model learned, so they mean something to it
    sources = (["Current drawing"] if st.session_state.get(keys.DRAWING) is not None else []) + ["Test image"]
    source = st.radio("Input", sources, horizontal=True)
    x = None
    if source == "Current drawing":
        try:
            x = preprocess_canvas(st.session_state[keys.DRAWING]).tensor
        except EmptyDrawing as err:
            st.info(f"{err} (on the Draw & Predict page)")
    else:
        try:
            images, labels = test_split(chosen.dataset)
        except DatasetUnavailable as err:
            st.error(str(err))
            st.stop()
        how = st.radio("Pick", ["random", "by class", "by index"], horizontal=True)
        if how == "by index":
            st.session_state[keys.DIGIT_INDEX] = st.number_input("Index", 0, len(labels) - 1, 0)
        elif how == "by class":
            label = st.selectbox("Class", range(len(dataset.classes)), format_func=lambda c: dataset.classes[c])
            members = (labels == label).nonzero().flatten()
            nth = st.slider("Which one", 0, len(members) - 1, 0)
            st.session_state[keys.DIGIT_INDEX] = int(members[nth])
        elif st.button("Another random image", icon=":material/casino:") or keys.DIGIT_INDEX not in st.session_state:
            st.session_state[keys.DIGIT_INDEX] = int(np.random.default_rng().integers(len(labels)))
        index = st.session_state[keys.DIGIT_INDEX]
        st.caption(f"{dataset.title} test image #{index}, label {dataset.classes[int(labels[index])]}")
        x = to_model_input(images[index : index + 1])
    if x is not None:
        st.image(denormalize(x[0, 0]).numpy(), width=140, clamp=True, caption="input (28×28)")
if x is None:
    st.stop()

with layer_col:
    names = feature_layer_names(chosen.model)
    layer = st.select_slider(
        "Layer",
        names,
        value=stage_output_name(chosen.model, "layer1"),
        help="stem: the layers before the first block. layer2.0: stage 2, block 0. "
        "A stage's output is its last block's output.",
    )
    fmap = feature_maps(chosen.model, x, names=[layer])[layer][0]
    stats = layer_statistics(fmap)
    c1, c2, c3 = st.columns(3)
    c1.metric("Shape (C×H×W)", "×".join(map(str, stats.shape)))
    c2.metric("Mean activation", f"{stats.mean:.3f}")
    c3.metric("Zeros after ReLU", f"{100 * stats.zero_fraction:.1f}%")
    count = st.slider("Channels shown (strongest first)", 1, min(64, stats.shape[0]), min(32, stats.shape[0]))
    shown = stats.channel_order[:count]
    grid = channel_grid(fmap, shown, columns=8).numpy()
    st.plotly_chart(charts.heatmap(grid, f"{layer}: {count} of {stats.shape[0]} channels", height=420))
    channel = st.selectbox(
        "Look closer at channel", shown, format_func=lambda c: f"channel {c} (mean {stats.channel_means[c]:.3f})"
    )
    st.plotly_chart(charts.heatmap(fmap[channel].numpy(), f"{layer}, channel {channel}", height=360))
