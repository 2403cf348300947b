"""Draw & Predict: draw a digit (or upload a picture of one) and see what the model makes of it."""

import time

import streamlit as st

from resnet_core.data.datasets import DATASETS
from resnet_core.digits.preprocess import BOX, SMALL_DIGIT, EmptyDrawing, NoDigitFound, preprocess_canvas
from resnet_core.digits.reading import read_digit
from resnet_core.files.images import InvalidImage, load_image
from resnet_core.training.config import smoothed_target
from ui import charts, keys, widget_state
from ui.attribution_view import where_it_looks
from ui.drawing.canvas import drawing_canvas
from ui.drawing.thumbnails import square_thumbnail
from ui.models.model_list import ModelEntry, predictor_for
from ui.models.picker import pick_model
from ui.page_end import end_page
from ui.teacher_note import teacher_note

widget_state.set_defaults({"draw:mode": "Draw", "draw:pen": 20})

st.title("Draw & Predict")
chosen = pick_model()
if chosen is None:
    end_page()


# A stroke reruns this part alone, not the sidebar and the model picker above: in a class every
# student's stroke costs the one server that all of them share.
@widget_state.fragment
def draw_and_answer(chosen: ModelEntry) -> None:
    draw_col, result_col = st.columns([1, 2])
    with draw_col:
        mode = st.radio(
            "Input", ["Draw", "Upload a picture"], horizontal=True, key="draw:mode", label_visibility="collapsed"
        )
        image = None
        if mode == "Draw":
            drawing_canvas(st.session_state["draw:pen"])
            image = st.session_state.get(keys.DRAWING)
        else:
            upload = st.file_uploader("A picture of one digit", type=["png", "jpg", "jpeg", "gif", "bmp"])
            if upload is not None:
                try:
                    image = load_image(upload.getvalue())
                except InvalidImage as err:
                    st.error(str(err))
                    return  # the error says what to do: no second hint under it
        # On a phone the columns stack: the answer goes right under the canvas, on the same screen.
        answer = st.container()
        if mode == "Draw":
            st.slider("Pen width", 8, 40, key="draw:pen", help="in canvas pixels; the canvas is 280 pixels across")
    with answer:
        prepared = _prepared(image, mode, chosen)
    if prepared is None:
        return
    predictor = predictor_for(chosen.model)
    started = time.perf_counter()
    probabilities = predictor(prepared.tensor)[0].numpy()
    elapsed_ms = 1000 * (time.perf_counter() - started)
    dataset = DATASETS[chosen.dataset]
    reading = read_digit(probabilities)
    best = reading.answer
    with answer:
        st.metric(
            "Prediction",
            dataset.classes[best],
            f"{100 * reading.probability:.1f}% sure",
            delta_color="off",
            delta_arrow="off",
        )
        if not reading.sure:
            st.warning(
                f"**Not sure.** {dataset.classes[best]} is only the model's best guess: draw it larger and "
                "clearer, or it may not be one of the things it knows."
            )
        if mode == "Draw" and prepared.digit_size < SMALL_DIGIT:
            st.warning(
                f"**Draw it larger.** Your digit fills {100 * prepared.digit_size:.0f}% of the canvas's width: "
                "enlarged to MNIST's size, its lines come out much thicker than any MNIST digit, and small "
                "digits are often misread. Fill most of the canvas, or choose a thinner pen."
            )
    with result_col:
        st.plotly_chart(charts.probability_bars(probabilities, dataset.classes), config=charts.NO_TOOLBAR)
        st.caption(
            f"Answered by {chosen.label} ({chosen.arch}) in {elapsed_ms:.1f} ms on the "
            f"{predictor.device.type.upper()}. Choose another model in the sidebar."
        )
        if chosen.dataset != "mnist":
            st.caption(f"This model was trained on {dataset.title}: it answers with those classes, whatever is drawn.")
        if chosen.label_smoothing > 0:
            aim = smoothed_target(chosen.label_smoothing, len(dataset.classes))
            st.caption(
                f"Why not 100% sure? This model learned with label smoothing: its targets gave the right answer "
                f"{aim:.0%} and shared the rest among the others, so about {aim:.0%} is as sure as "
                "it was taught to be."
            )
        st.markdown("**What the model sees**: the drawing prepared the way MNIST's digits were")
        st.image([square_thumbnail(step) for step in prepared.steps.values()], caption=list(prepared.steps), width=120)
        where_it_looks(chosen, prepared.tensor, best, dataset.classes, key="draw:where")


def _prepared(image, mode: str, chosen: ModelEntry):
    """The drawing or picture prepared as MNIST's digits were; None (with the reason on screen) if none."""
    if image is None:
        ask = (
            "Draw a digit on the black canvas."
            if mode == "Draw"
            else "Upload a picture of one digit (PNG, JPEG, GIF or BMP)."
        )
        st.info(f"{ask} {chosen.label} reads it; choose another model in the sidebar.")
        return None
    try:
        return preprocess_canvas(image)
    except NoDigitFound as err:
        st.info(str(err))
    except EmptyDrawing as err:
        st.info(str(err) if mode == "Draw" else "This picture is blank: there is no digit in it to read.")
    except InvalidImage as err:
        st.info(str(err))
    return None


draw_and_answer(chosen)
# Below the canvas and the answer, which a phone must show on its first screen.
teacher_note(
    "The network never saw your handwriting. Your drawing is made to look like MNIST's digits (cut out, "
    f"shrunk to fit {BOX}×{BOX}, centred on 28×28), and the network gives each of the ten digits a probability.",
    "the bars of the digits it did not choose. A clean digit leaves them all equally low; draw one carelessly "
    "(a 7 like a 1, a 4 like a 9) and the bar of the digit it resembles rises above the rest.",
)
