"""Feature Maps: what every layer of a model saw, channel by channel, on one colour scale per layer."""

import streamlit as st

from resnet_core.data.datasets import DATASETS
from ui import feature_view
from ui.attribution_view import where_it_looks
from ui.input_picker import drawing_or_test_image
from ui.models.model_list import active_model, session_models
from ui.models.picker import offer_quick_training
from ui.page_end import end_page
from ui.teacher_note import teacher_note

st.title("Feature Maps")
teacher_note(
    "Every layer turns the picture into many pictures, one per **channel**: each shows where that layer's "
    "filter found its pattern. Early layers still look like the digit; deeper ones are smaller and show "
    "*what* was found more than *where*.",
    "how the digit's outline is clear in the first layer and fades into a few bright spots in the last; "
    "and, below, the parts of the input that decided the answer.",
)
if active_model() is None:
    offer_quick_training("load a checkpoint on the Draw & Predict page")
    end_page()
chosen = feature_view.pick_model(session_models(), active_model())

source_col, layer_col = st.columns([1, 2])
with source_col:
    x = drawing_or_test_image(chosen.dataset, name="maps")  # test images from what the model learned
if x is None:
    end_page()
with layer_col:
    feature_view.layer_section(chosen.model, x)

where_it_looks(
    chosen,
    x,
    feature_view.answer_of(chosen.model, x),
    DATASETS[chosen.dataset].classes,
    key="maps:where",
    label="Where it looks: which parts of this input made the answer",
)
