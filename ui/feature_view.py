"""The Feature Maps page's pieces: the model to look inside, one layer's maps on one colour scale, and
words for what each layer's maps show and what the stem did to the digit."""

from __future__ import annotations

import math

import numpy as np
import streamlit as st
import torch

from resnet_core.data.augment import denormalize
from resnet_core.inside.feature_maps import (
    STEM,
    channel_grid,
    feature_layer_names,
    feature_maps,
    layer_statistics,
    stage_output_name,
)
from resnet_core.networks.resnet import STEMS, ResNet
from ui import charts
from ui.models.model_list import ModelEntry, predictor_for

DEFAULT_CHANNELS = 16  # a 4×4 grid: tiles large enough to read from the back of a room


def grid_columns(count: int) -> int:
    """Tiles per row: a square-ish grid, never more than 8 across (16 -> 4, 32 -> 6, 64 -> 8)."""
    return max(1, min(8, math.ceil(math.sqrt(count))))


def stem_sentence(stem: str) -> str:
    """One sentence on what the model's stem did to a 28×28 digit before the first block."""
    if stem == "imagenet":
        return (
            "This model's stem is ImageNet's: a 7×7 convolution with stride 2 halves the digit to 14×14, "
            "then a max-pool with stride 2 halves it again, so every block sees a 7×7 map (built for "
            "224×224 photos). Choose a model with the small stem, such as Starter ResNet-20, for 28×28 maps."
        )
    if stem == "medium":
        return "This model's stem ends in a max-pool with stride 2: the digit is 14×14 before the first block."
    return (
        f"This model's stem ({STEMS[stem].layers}) keeps the digit's full 28×28 size, "
        "so the first blocks' maps still look like the digit."
    )


def what_to_look_for(layer: str, shape: tuple[int, ...], stages: tuple[str, ...]) -> str:
    """A one-line caption for a layer's maps: what a student should look for in them."""
    channels, height, width = shape
    if height == 1 and width == 1:
        return (
            f"Each bar is one of {channels} channels: how strongly its pattern appears anywhere in the digit. "
            "The classifier decides from these numbers alone."
        )
    if layer == STEM:
        return (
            f"The stem's {channels} filters, each run over the whole digit: look for edges and strokes "
            "at different angles lighting up."
        )
    stage = layer.split(".")[0]
    position = stages.index(stage)
    if position == 0:
        return (
            f"Stage 1, {height}×{width}: strokes and edges still sit where they are in the digit; "
            "each channel picks out different ones."
        )
    if position == len(stages) - 1:
        return (
            f"The last stage, {height}×{width}: each square sees most of the digit. Only a few channels "
            "light up strongly; which ones depends on the digit. The classifier averages each map to one number."
        )
    return (
        f"Stage {position + 1}, {height}×{width}: each square now sees a larger patch of the digit; "
        "channels light up for parts such as loops, corners and line ends."
    )


def _stem(entry: ModelEntry) -> str:
    return entry.model.model_kwargs["stem"]  # the current name, whatever name its checkpoint used


def pick_model(models: list[ModelEntry], active: ModelEntry) -> ModelEntry:
    """Choose the model to look inside: any of the list, the one with the largest maps first (the starter
    ResNet-20's are 28×28), the one in use on a tie. Says what its stem did to the digit."""
    sides = [STEMS[_stem(entry)].side for entry in models]
    largest = max(range(len(models)), key=lambda i: (sides[i], models[i] is active))
    position = st.selectbox(
        "Maps of",
        range(len(models)),
        index=largest,
        format_func=lambda i: f"{models[i].label} ({models[i].arch}, {sides[i]}×{sides[i]} maps after the stem)",
        help="Any model in the sidebar's list. This page starts with the one whose maps are largest.",
    )
    st.caption(stem_sentence(_stem(models[position])))
    return models[position]


LAYER = "maps:layer"  # the Feature Maps page's layer


def answer_of(model: ResNet, x: torch.Tensor) -> int:
    """The class the model gives the input (1, 1, 28, 28)."""
    return int(predictor_for(model)(x)[0].argmax())


def layer_section(model: ResNet, x: torch.Tensor) -> None:
    """Choose a layer; its figures, its strongest channels on one colour scale beside the input, a closer look."""
    names = feature_layer_names(model)
    # Keyed, so that students following the teacher see the teacher's layer; another model's layer, which
    # this one may lack, gives way to its first stage's output.
    if st.session_state.get(LAYER) not in names:
        st.session_state[LAYER] = stage_output_name(model, model.stages[0])
    layer = st.select_slider(
        "Layer",
        names,
        key=LAYER,
        help="stem: the layers before the first block. layer2.0: stage 2's first block. "
        "A stage's output is its last block's output.",
    )
    fmap = feature_maps(model, x, names=[layer])[layer][0]
    stats = layer_statistics(fmap)
    st.markdown(f"**{what_to_look_for(layer, stats.shape, model.stages)}**")
    c1, c2, c3 = st.columns(3)
    c1.metric("Shape", "×".join(map(str, stats.shape)), help="channels × height × width")
    c2.metric("Mean activation", f"{stats.mean:.3f}")
    c3.metric(
        "Zeros after ReLU",
        f"{100 * stats.zero_fraction:.1f}%",
        help="Share of values that are exactly 0: ReLU turns every negative value into 0.",
    )
    count = st.slider(
        "Channels shown (strongest first)", 1, min(64, stats.shape[0]), min(DEFAULT_CHANNELS, stats.shape[0])
    )
    shown = stats.channel_order[:count]
    bars = stats.shape[1:] == (1, 1)
    # The layer's 99th percentile tops the scale: one hot pixel would otherwise dim every tile. Bars
    # (1×1 maps) have room for every value.
    low = min(0.0, stats.low)
    high = max(stats.high if bars else float(np.quantile(fmap.numpy(), 0.99)), 1e-6)
    picture, maps = st.columns([1, 4])
    picture.image(
        np.kron(denormalize(x[0, 0]).clamp(0, 1).numpy(), np.ones((4, 4))),  # 4× nearest: the real 28×28 pixels
        caption="input (28×28)",
        width=112,
        clamp=True,
    )
    if bars:
        figure = charts.channel_bars(shown, [float(fmap[c, 0, 0]) for c in shown], low, high)
    else:
        grid = channel_grid(fmap, shown, columns=grid_columns(count), per_channel_scale=False).numpy()
        figure = charts.feature_grid(grid, low, high)
    maps.plotly_chart(figure, config=charts.NO_TOOLBAR)
    st.caption(
        f"{layer}: the {count} strongest of {stats.shape[0]} channels on one colour scale (0 to {high:.2f}"
        + (
            "): a short bar is a channel that barely reacted to this digit."
            if bars
            else "; the top 1% of values show in full yellow): a dark tile is a channel that barely reacted "
            "to this digit."
        )
    )
    if not bars:
        channel = st.selectbox(
            "Look closer at channel", shown, format_func=lambda c: f"channel {c} (mean {stats.channel_means[c]:.3f})"
        )
        closer = charts.feature_grid(fmap[channel].numpy(), low, high)
        closer.update_layout(height=360)
        st.plotly_chart(closer, config=charts.NO_TOOLBAR)
