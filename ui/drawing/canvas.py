"""A drawing canvas (Draw & Predict's, Teach it's) with Undo and Clear buttons that are always on screen, touch screens included.

The canvas's own toolbar shows only while a mouse hovers over it, so a phone never sees it. Our
buttons remount the canvas (a new key) holding all strokes but the last; the picture of the drawing
after each stroke is kept, so the prediction steps back with the strokes at once.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from ui import keys

SIZE = 280  # canvas side in px: fits a phone held upright
STROKES_KEPT = 40  # pictures kept for Undo (78 KB each)


def _state(name: str) -> dict:
    # pictures: stroke count -> the drawing's red channel (white ink on black) once that many strokes were down
    return st.session_state.setdefault(
        f"{keys.CANVAS_STATE}:{name}", {"version": 0, "start": None, "objects": [], "pictures": {}}
    )


def drawing_canvas(stroke_width: int, drawing_key: str = keys.DRAWING, name: str = "draw") -> None:
    """Draw the canvas and its buttons; the latest drawing lands in st.session_state[drawing_key].

    name: which canvas, when a page has its own (each keeps its own strokes).
    """
    from streamlit_drawable_canvas import st_canvas  # importing it outside a running app raises

    state = _state(name)
    state["drawing_key"] = drawing_key
    canvas = st_canvas(
        stroke_width=stroke_width,
        stroke_color="#FFFFFF",
        background_color="#000000",
        height=SIZE,
        width=SIZE,
        drawing_mode="freedraw",
        initial_drawing=state["start"],
        return_image_data=True,
        key=f"{keys.CANVAS}-{name}-{state['version']}",
    )
    objects = list((canvas.json_data or {}).get("objects", [])) if canvas is not None else []
    if canvas is not None and canvas.image_data is not None and objects:
        picture = np.asarray(canvas.image_data)
        # Counts above this one belong to strokes the canvas's own Undo took back.
        kept = {n: p for n, p in state["pictures"].items() if n < len(objects) and n > len(objects) - STROKES_KEPT}
        state["pictures"] = {**kept, len(objects): picture[..., 0].copy()}
        state["objects"] = objects
        st.session_state[drawing_key] = picture
    strokes = len(state["objects"])
    undo, clear = st.columns(2)
    if undo.button("Undo stroke", icon=":material/undo:", disabled=strokes == 0, width="stretch", key=f"undo-{name}"):
        _restart(state, state["objects"][:-1])
    if clear.button("Clear", icon=":material/delete:", disabled=strokes == 0, width="stretch", key=f"clear-{name}"):
        _restart(state, [])


def clear_canvas(name: str) -> None:
    """Empty the canvas `name` and forget its drawing (after the drawing was used up, say); reruns."""
    _restart(_state(name), [])


def forget_canvas(name: str) -> None:
    """Empty the canvas `name` without a rerun: for a widget's on_change, which reruns anyway."""
    _restart(_state(name), [], rerun=False)


def _restart(state: dict, objects: list, rerun: bool = True) -> None:
    """Remount the canvas holding `objects`; the drawing becomes the picture taken at that many strokes."""
    state.update(version=state["version"] + 1, start={"objects": objects} if objects else None, objects=objects)
    grey = state["pictures"].get(len(objects))
    drawing_key = state.get("drawing_key", keys.DRAWING)
    if grey is not None:
        st.session_state[drawing_key] = np.dstack([grey, grey, grey, np.full_like(grey, 255)])
    else:  # cleared, or strokes drawn between two updates: the page waits for the next stroke
        st.session_state.pop(drawing_key, None)
    if rerun:
        st.rerun()
