"""Feature Maps: what every layer of a model saw, channel by channel, on one colour scale per layer."""

import numpy as np
import streamlit as st

from resnet_core.data.augment import denormalize, to_model_input
from resnet_core.data.datasets import DATASETS, DatasetUnavailable
from resnet_core.digits.preprocess import EmptyDrawing, preprocess_canvas
from resnet_core.inside.feature_maps import (
    channel_grid,
    feature_layer_names,
    feature_maps,
    layer_statistics,
    stage_output_name,
)
from resnet_core.networks.resnet import STEMS
from ui import charts, keys
from ui.attribution_view import where_it_looks
from ui.feature_view import DEFAULT_CHANNELS, grid_columns, stem_sentence, what_to_look_for
from ui.models.model_list import active_model, predictor_for, session_models
from ui.models.picker import offer_quick_training
from ui.resources import test_split

st.title("Feature Maps")
if active_model() is None:
    offer_quick_training("load a checkpoint on the Draw & Predict page")
    st.stop()
models = session_models()


def stem_of(i: int) -> str:
    return models[i].model.model_kwargs["stem"]  # the current name, whatever name its checkpoint used


# The model with the largest maps first (the starter ResNet-20's are 28×28), the one in use on a tie.
largest = max(range(len(models)), key=lambda i: (STEMS[stem_of(i)].side, models[i] is active_model()))
position = st.selectbox(
    "Maps of",
    range(len(models)),
    index=largest,
    format_func=lambda i: (
        f"{models[i].label} ({models[i].arch}, {STEMS[stem_of(i)].side}×{STEMS[stem_of(i)].side} maps after the stem)"
    ),
    help="Any model in the sidebar's list. This page starts with the one whose maps are largest.",
)
chosen = models[position]
st.caption(stem_sentence(stem_of(position)))

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
if x is None:
    st.stop()

with layer_col:
    names = feature_layer_names(chosen.model)
    layer = st.select_slider(
        "Layer",
        names,
        value=stage_output_name(chosen.model, chosen.model.stages[0]),
        help="stem: the layers before the first block. layer2.0: stage 2's first block. "
        "A stage's output is its last block's output.",
    )
    fmap = feature_maps(chosen.model, x, names=[layer])[layer][0]
    stats = layer_statistics(fmap)
    st.markdown(f"**{what_to_look_for(layer, stats.shape, chosen.model.stages)}**")
    c1, c2, c3 = st.columns(3)
    c1.metric("Shape", "×".join(map(str, stats.shape)), help="channels × height × width")
    c2.metric("Mean activation", f"{stats.mean:.3f}")
    c3.metric(
        "Zeros after ReLU",
        f"{100 * stats.zero_fraction:.1f}%",
        help="Share of values that are exactly 0: ReLU turns every negative value into 0.",
    )
    count = st.slider(
        "Channels shown (strongest first)",
        1,
        min(64, stats.shape[0]),
        min(DEFAULT_CHANNELS, stats.shape[0]),
    )
    shown = stats.channel_order[:count]
    # The layer's 99th percentile tops the scale: one hot pixel would otherwise dim every tile.
    low, high = min(0.0, stats.low), max(float(np.quantile(fmap.numpy(), 0.99)), 1e-6)
    picture, maps = st.columns([1, 4])
    picture.image(
        np.kron(denormalize(x[0, 0]).clamp(0, 1).numpy(), np.ones((4, 4))),  # 4× nearest: the real 28×28 pixels
        caption="input (28×28)",
        width=112,
        clamp=True,
    )
    if stats.shape[1:] == (1, 1):
        high = max(stats.high, 1e-6)  # a bar per channel: every value fits on the scale
        maps.plotly_chart(
            charts.channel_bars(shown, [float(fmap[c, 0, 0]) for c in shown], low, high),
            config=charts.NO_TOOLBAR,
        )
    else:
        grid = channel_grid(fmap, shown, columns=grid_columns(count), per_channel_scale=False).numpy()
        maps.plotly_chart(charts.feature_grid(grid, low, high), config=charts.NO_TOOLBAR)
    st.caption(
        f"{layer}: the {count} strongest of {stats.shape[0]} channels on one colour scale (0 to {high:.2f}"
        + (
            "): a short bar is a channel that barely reacted to this digit."
            if stats.shape[1:] == (1, 1)
            else "; the top 1% of values show in full yellow): a dark tile is a channel that barely reacted "
            "to this digit."
        )
    )
    if stats.shape[1:] != (1, 1):
        channel = st.selectbox(
            "Look closer at channel", shown, format_func=lambda c: f"channel {c} (mean {stats.channel_means[c]:.3f})"
        )
        closer = charts.feature_grid(fmap[channel].numpy(), low, high)
        closer.update_layout(height=360)
        st.plotly_chart(closer, config=charts.NO_TOOLBAR)

with st.expander("Where it looks: which parts of this input made the answer", icon=":material/visibility:"):
    where_it_looks(chosen, x, int(predictor_for(chosen.model)(x)[0].argmax()), dataset.classes)
