"""Convolution: a filter of the model's first layer slides over a digit, one output pixel at a time, then the
whole map; stride and max-pooling halve it the same way."""

import streamlit as st
import torch

from resnet_core.inside.convolution import (
    feature_map,
    first_filter,
    max_pool,
    model_input,
    pool_window,
    step,
)
from ui import convolution_charts, widget_state
from ui.charts import NO_TOOLBAR
from ui.input_picker import drawing_or_test_image
from ui.models.model_list import active_model
from ui.models.picker import offer_quick_training
from ui.page_end import end_page
from ui.teacher_note import teacher_note

SLIDE, STRIDE, POOL = "The filter slides", "Stride 2: every other place", "Max-pooling: the largest of each 2×2"
POSITION = "conv:position"
widget_state.set_defaults({"conv:filter": 0, "conv:show": SLIDE})


def _restart() -> None:
    """Another filter or view starts where its map responds most."""
    st.session_state.pop(POSITION, None)


def _padding_sentence(padding: int) -> str:
    if padding == 0:
        return "No padding: the filter stays inside the digit, so the map is smaller than the digit."
    ring = "a ring of zeros one pixel wide" if padding == 1 else f"a ring of zeros {padding} pixels wide"
    return (
        f"Padding: {ring} around the digit, so that the filter fits at the edges too. Where the orange square "
        "hangs over the digit's border, the pixels under it are those zeros (0.00 in the grid), not black paper."
    )


st.title("Convolution")
teacher_note(
    "A convolution slides a small grid of numbers, a **filter**, over the picture. At each place it "
    "multiplies every pixel under the filter by the weight on top of it and adds the products up: that sum is "
    "one pixel of a new picture, the filter's **map**. The network learned its filters' weights itself.",
    "where the map is strongly red or blue: those are the places that look like the filter's pattern "
    "(or its opposite). Each filter picks out a different pattern: an edge on one side, a stroke's end.",
)
chosen = active_model()
if chosen is None:
    offer_quick_training("load a checkpoint on the Draw & Predict page")
    end_page()

left, right = st.columns([1, 2])
with left:
    x = drawing_or_test_image(chosen.dataset, name="conv")
    channels = chosen.model.conv1.out_channels
    # A followed teacher's filter may be one this model lacks: a model with fewer filters shows its last.
    st.session_state["conv:filter"] = min(st.session_state["conv:filter"], channels - 1)
    channel = st.slider(
        "Filter",
        0,
        channels - 1,
        key="conv:filter",
        help=f"the first layer has {channels} filters; another filter starts at the output pixel where its map "
        "responds most",
        on_change=_restart,
    )
    show = st.radio("Show", [SLIDE, STRIDE, POOL], key="conv:show", on_change=_restart)
if x is None:
    end_page()
flt = first_filter(chosen.model, channel)
image = model_input(x)
kernel = flt.weights.shape[0]
own = feature_map(image, flt)
if show == SLIDE:
    target = own
elif show == STRIDE:
    target = feature_map(image, flt, stride=2 * flt.stride)
else:
    target = max_pool(own)
side = target.shape[0]
places = side * side


def _move(by: int) -> None:
    st.session_state[POSITION] = min(max(st.session_state.get(POSITION, 0) + by, 0), places - 1)


with right:
    strongest = int(target.abs().argmax())  # where to start: the map's strongest response
    st.session_state[POSITION] = min(st.session_state.get(POSITION, strongest), places - 1)
    # A row that stays a row on a phone (columns there stack, putting the arrows above and below the slider).
    with st.container(horizontal=True, vertical_alignment="bottom"):
        st.button(":material/chevron_left:", help="the place before", on_click=_move, args=(-1,), key="conv:back")
        position = st.slider("Output pixel", 0, places - 1, key=POSITION, help="the place, row by row")
        st.button(":material/chevron_right:", help="the next place", on_click=_move, args=(1,), key="conv:next")
    row, col = divmod(position, side)
    done = torch.full_like(target, float("nan"))
    done.view(-1)[: position + 1] = target.view(-1)[: position + 1]  # raster order: every place up to this one
    picture, map_side = st.columns(2)  # side by side on a projector, one under the other on a phone
    if show == POOL:
        window = pool_window(own, row, col)
        largest = window.max().item()
        picture.plotly_chart(
            convolution_charts.window_on(own, 2 * row, 2 * col, 2, f"filter {channel}'s map", is_map=True),
            config=NO_TOOLBAR,
        )
        map_side.plotly_chart(
            convolution_charts.map_so_far(done, row, col, f"max-pooled: {side}×{side}"), config=NO_TOOLBAR
        )
        values = ", ".join(f"{v:.2f}" for v in window.flatten().tolist())
        st.markdown(
            f"**Row {row}, column {col}:** the 2×2 window holds {values}; the largest, **{largest:.2f}**, "
            f"is the pooled pixel. The map halves from {own.shape[0]}×{own.shape[0]} to {side}×{side}: in each "
            "window only the highest value survives (the reddest; a strong blue, a negative value, does not), "
            "wherever in the window it was."
        )
    else:
        stride = flt.stride if show == SLIDE else 2 * flt.stride
        place = step(image, flt, row, col, stride=stride)
        title = f"filter {channel}'s map: {side}×{side}" + (f", stride {stride}" if stride > 1 else "")
        picture.plotly_chart(
            convolution_charts.window_on(image, place.top, place.left, kernel, "the digit"), config=NO_TOOLBAR
        )
        map_side.plotly_chart(convolution_charts.map_so_far(done, row, col, title), config=NO_TOOLBAR)
        grids = st.columns(3)
        for column, grid, name, diverging in (
            (grids[0], place.patch, "pixels under the filter", False),
            (grids[1], flt.weights, "× the filter's weights", True),
            (grids[2], place.products, "= products", True),
        ):
            column.plotly_chart(convolution_charts.number_grid(grid, name, diverging), config=NO_TOOLBAR)
        moves = f"{stride} pixels" if stride > 1 else "one pixel"
        st.markdown(
            f"**Row {row}, column {col}:** the {kernel * kernel} products add up to **{place.total:.2f}** (the "
            f"products are shown rounded), the map's pixel there. The filter moves {moves} at a time, so a "
            f"{image.shape[0]}×{image.shape[0]} digit makes a {side}×{side} map."
            + (" Stride 2 skips every other place: the map has a quarter of the pixels." if show == STRIDE else "")
        )
    st.caption(
        f"{chosen.label}'s first layer: {channels} filters of {kernel}×{kernel} weights, stride {flt.stride}. "
        + _padding_sentence(flt.padding)
        + " The numbers are the ones the model multiplies: the digit's pixels rescaled as they were in training, "
        f"so the black paper is {image.min():.2f} and the whitest ink {image.max():.2f}."
    )

st.subheader(f"Filter {channel}'s whole map")
st.plotly_chart(
    convolution_charts.filling_in(own, "press Play: the filter fills the map row by row"),
    config=NO_TOOLBAR,
    key="conv:whole",
)
st.caption(
    "The next layers do the same on these maps, with filters that look at all the maps of the layer before at "
    "once: the Feature Maps page shows every layer's."
)
