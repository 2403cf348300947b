"""Teach it: draw a few examples of new symbols, and a copy of the model learns them in seconds."""

import streamlit as st

from resnet_core.digits.preprocess import EmptyDrawing, preprocess_canvas
from resnet_core.files.images import InvalidImage
from resnet_core.training.finetune import LEARNS, fine_tune
from ui import charts, keys, teaching, widget_state
from ui.drawing.canvas import clear_canvas, drawing_canvas, take_drawing
from ui.models.model_list import active_model
from ui.models.picker import offer_quick_training
from ui.page_end import end_page
from ui.teacher_note import teacher_note

DEFAULT_NAMES = "circle, cross, heart"
NOTICE = "teach:notice"  # why the last drawing could not be added, shown once
ADD = "teach-add"  # the add button's key: pressing it also empties the canvas in the browser
widget_state.set_defaults(
    {"teach:names": DEFAULT_NAMES, "teach:mode": "Draw examples", "teach:label": 0, "teach:learns": next(iter(LEARNS))}
)

st.title("Teach it")
chosen = active_model()
if chosen is None:
    offer_quick_training("load a checkpoint on the Draw & Predict page")
    end_page()
teacher_note(
    "A network that learned digits already knows strokes, curves and corners. Here a copy of it learns new "
    "symbols of yours from about five drawings each: its layers keep what they learned, and only a new last "
    "layer (or the last stage too) learns.",
    "how few drawings it needs, and which of your symbols it still confuses.",
)
st.caption(
    f"A copy of {chosen.label} ({chosen.arch}) learns your symbols; the model in use is never changed. "
    "Draw about five examples of each, press Teach, then try it."
)
names_text = st.text_input(
    "Your symbols (2 to 4, separated by commas)",
    key="teach:names",
    help="Anything you can draw: shapes, letters, or your own way of writing some digits.",
)
try:
    names = st.session_state[keys.TEACH_NAMES] = teaching.class_names(names_text)
except ValueError as err:
    # The last good names stay in use, so the drawings and results stay on screen while the names are fixed.
    names = st.session_state.get(keys.TEACH_NAMES) or teaching.class_names(DEFAULT_NAMES)
    st.warning(f"{err} Until then: {', '.join(names)}.")


def _add_example(label: int) -> None:
    """Keep the drawing as an example of symbol `label` and empty the canvas for the next one."""
    drawing = take_drawing("teach")
    if drawing is None:  # the button is disabled then; a click sent by an older page can still come
        return
    try:
        example = preprocess_canvas(drawing).tensor
    except (EmptyDrawing, InvalidImage) as err:
        st.session_state[NOTICE] = str(err)
        return
    st.session_state.setdefault(keys.TEACH_EXAMPLES, []).append((label, example))


def _start_over() -> None:
    st.session_state[keys.TEACH_EXAMPLES] = []
    st.session_state.pop(keys.TAUGHT, None)


# A stroke, an added example or a Teach reruns this part alone, not the sidebar and the names above:
# in a class every student's stroke costs the one server that all of them share.
@widget_state.fragment
def examples_and_teaching(chosen, names: tuple[str, ...]) -> None:
    examples: list = st.session_state.setdefault(keys.TEACH_EXAMPLES, [])
    draw_col, side_col = st.columns([1, 1])
    with draw_col:
        mode = st.radio(
            "Canvas",
            ["Draw examples", "Try it"],
            horizontal=True,
            key="teach:mode",
            on_change=clear_canvas,
            args=("teach",),  # a test drawing must not become an example by mistake, nor the other way round
        )
        drawing_canvas(14, drawing_key=keys.TEACH_DRAWING, name="teach", clear_with=(ADD,))
        drawing = st.session_state.get(keys.TEACH_DRAWING)
    with side_col:
        if mode == "Draw examples":
            label = st.radio(
                "This drawing is a",
                range(len(names)),
                format_func=names.__getitem__,
                horizontal=True,
                key="teach:label",
            )
            full = sum(1 for held, _ in examples if held == label) >= teaching.MOST_EXAMPLES_PER_SYMBOL
            if full:
                st.caption(
                    f"{names[label]} has {teaching.MOST_EXAMPLES_PER_SYMBOL} examples, the most it takes: "
                    "a few good ones teach it as well as many."
                )
            st.button(
                f"Add as an example of {names[label]}",
                icon=":material/add:",
                disabled=drawing is None or full,
                key=ADD,
                on_click=_add_example,
                args=(label,),
            )
            notice = st.session_state.pop(NOTICE, None)
            if notice:
                st.info(notice)
            teaching.example_gallery(examples, names)
            if examples:
                st.button("Start over", icon=":material/restart_alt:", on_click=_start_over)
        else:
            try_it(drawing, names)

    st.subheader("Teach")
    learns = st.radio(
        "What learns",
        list(LEARNS),
        key="teach:learns",
        format_func=lambda key: LEARNS[key],
        horizontal=True,
        help="The rest stays frozen: it keeps the strokes, corners and loops it learned from MNIST.",
    )
    train_set, held_out = teaching.held_out_split(examples, len(names))
    ready = len(train_set[1]) and set(train_set[1].tolist()) == set(range(len(names)))
    if st.button("Teach", type="primary", icon=":material/school:", disabled=not ready):
        with st.spinner("Learning your symbols…"):
            st.session_state[keys.TAUGHT] = fine_tune(
                chosen.model, train_set[0], train_set[1], names, learns=learns, held_out=held_out
            )
    if not ready:
        st.caption("Add at least one example of every symbol to teach.")
    taught = st.session_state.get(keys.TAUGHT)
    if taught is not None and taught.classes == names:
        teaching.results(taught, len(examples), learns)
        if mode == "Draw examples":
            st.success("Switch the canvas to **Try it** and draw one of your symbols.")


def try_it(drawing, names: tuple[str, ...]) -> None:
    """What the taught copy makes of the drawing on the canvas."""
    taught = st.session_state.get(keys.TAUGHT)
    if taught is None or taught.classes != names:
        st.info("Teach the model your symbols first (below).")
        return
    if drawing is None:
        st.info("Draw one of your symbols on the canvas.")
        return
    try:
        x = preprocess_canvas(drawing).tensor
    except (EmptyDrawing, InvalidImage) as err:
        st.info(str(err))
        return
    probabilities = teaching.probabilities(taught, x)
    st.metric(
        "It says",
        names[int(probabilities.argmax())],
        f"{100 * probabilities.max():.1f}% sure",  # as its bar says
        delta_color="off",
        delta_arrow="off",
    )
    st.plotly_chart(charts.probability_bars(probabilities, names), config=charts.NO_TOOLBAR)


examples_and_teaching(chosen, names)
