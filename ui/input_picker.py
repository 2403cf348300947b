"""The one input picker for looking inside a model: the student's current drawing, the teacher's (while
the student follows a leading teacher), or a test image chosen at random, by class or by its number."""

from __future__ import annotations

import numpy as np
import streamlit as st
import torch

from resnet_core.data.augment import to_model_input
from resnet_core.data.datasets import DATASETS, DatasetUnavailable
from resnet_core.digits.preprocess import EmptyDrawing, preprocess_canvas
from ui import keys, widget_state
from ui.lead import teachers_drawing
from ui.resources import test_split

DRAWING, TEACHERS_DRAWING, TEST_IMAGE = "Current drawing", "Teacher's drawing", "Test image"
PICKS = ("random", "by class", "by index")
PICKERS = ("conv", "maps", "anatomy")  # the pages' pickers: Convolution, Feature Maps, the lab's Inside a block


def picker_keys(name: str) -> tuple[str, ...]:
    """Everything that says which input picker `name` shows, for a follower to take from the teacher."""
    return tuple(f"{name}:{part}" for part in ("input", "pick", "class", "nth", "index")) + (
        f"{keys.TEST_IMAGE}:{name}",
    )


def drawing_or_test_image(dataset: str, name: str) -> torch.Tensor | None:
    """Draw the picker; the chosen input (1, 1, 28, 28), normalised, or None after saying why there is none.

    dataset: where test images come from (the one the model learned, so they mean something to it).
    name: the page's picker, so each page keeps its own choice.
    """
    drawings = {TEACHERS_DRAWING: teachers_drawing(), DRAWING: st.session_state.get(keys.DRAWING)}
    sources = [source for source, drawing in drawings.items() if drawing is not None] + [TEST_IMAGE]
    widget_state.set_defaults(
        {f"{name}:input": sources[0], f"{name}:pick": PICKS[0], f"{name}:class": 0, f"{name}:index": 0}
    )
    if st.session_state[f"{name}:input"] not in sources:  # a drawing cleared since, or a teacher no longer leading
        st.session_state[f"{name}:input"] = sources[0]
    source = st.radio("Input", sources, horizontal=True, key=f"{name}:input")
    if source != TEST_IMAGE:
        try:
            return preprocess_canvas(drawings[source]).tensor
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
        nth = f"{name}:nth"
        st.session_state[nth] = min(st.session_state.get(nth, 0), len(members) - 1)  # a teacher's on another set
        st.session_state[chosen] = int(members[st.slider("Which one", 0, len(members) - 1, key=nth)])
    else:
        st.button(
            "Another random image",
            icon=":material/casino:",
            key=f"{name}:random",
            on_click=_draw,
            args=(chosen, len(labels)),
        )
    if chosen not in st.session_state:
        _draw(chosen, len(labels))
    return min(st.session_state[chosen], len(labels) - 1)


def _draw(chosen: str, count: int) -> None:
    """A random test image, drawn as the button's callback: before the page runs, as other widgets' values are."""
    st.session_state[chosen] = int(np.random.default_rng().integers(count))
