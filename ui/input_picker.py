"""The one input picker for looking inside a model: the student's current drawing, or a test image
chosen at random, by class or by its number."""

from __future__ import annotations

import numpy as np
import streamlit as st
import torch

from resnet_core.data.augment import to_model_input
from resnet_core.data.datasets import DATASETS, DatasetUnavailable
from resnet_core.digits.preprocess import EmptyDrawing, preprocess_canvas
from ui import keys, widget_state
from ui.resources import test_split

DRAWING, TEST_IMAGE = "Current drawing", "Test image"
PICKS = ("random", "by class", "by index")


def drawing_or_test_image(dataset: str, name: str) -> torch.Tensor | None:
    """Draw the picker; the chosen input (1, 1, 28, 28), normalised, or None after saying why there is none.

    dataset: where test images come from (the one the model learned, so they mean something to it).
    name: the page's picker, so each page keeps its own choice.
    """
    drawing = st.session_state.get(keys.DRAWING)
    sources = [DRAWING, TEST_IMAGE] if drawing is not None else [TEST_IMAGE]
    widget_state.set_defaults(
        {f"{name}:input": sources[0], f"{name}:pick": PICKS[0], f"{name}:class": 0, f"{name}:index": 0}
    )
    if st.radio("Input", sources, horizontal=True, key=f"{name}:input") == DRAWING:
        try:
            return preprocess_canvas(drawing).tensor
        except EmptyDrawing as err:
            st.info(f"{err} (on the Draw & Predict page)")
            return None
    try:
        images, labels = test_split(dataset)
    except DatasetUnavailable as err:
        st.error(str(err))
        return None
    index = _test_image_index(labels, dataset, name)
    data = DATASETS[dataset]
    st.caption(f"{data.title} test image #{index}, label {data.classes[int(labels[index])]}")
    return to_model_input(images[index : index + 1])


def _test_image_index(labels: torch.Tensor, dataset: str, name: str) -> int:
    """The test image's position in the split, chosen with the picker's controls; kept in session state."""
    chosen = f"{keys.TEST_IMAGE}:{name}"
    classes = DATASETS[dataset].classes
    how = st.radio("Pick", PICKS, horizontal=True, key=f"{name}:pick")
    if how == "by index":
        st.session_state[chosen] = int(st.number_input("Index", 0, len(labels) - 1, key=f"{name}:index"))
    elif how == "by class":
        label = st.selectbox("Class", range(len(classes)), format_func=classes.__getitem__, key=f"{name}:class")
        members = (labels == label).nonzero().flatten()
        nth = st.slider("Which one", 0, len(members) - 1, 0)
        st.session_state[chosen] = int(members[nth])
    elif (
        st.button("Another random image", icon=":material/casino:", key=f"{name}:random")
        or chosen not in st.session_state
    ):
        st.session_state[chosen] = int(np.random.default_rng().integers(len(labels)))
    return min(st.session_state[chosen], len(labels) - 1)
