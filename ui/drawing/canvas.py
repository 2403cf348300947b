"""A drawing canvas (Draw & Predict's, Teach it's) with Undo and Clear buttons that are always on screen, touch screens included.

The canvas's own toolbar shows only while a mouse hovers over it, so a phone never sees it. Our
buttons (ui.drawing.canvas_buttons) press the toolbar's Undo and Reset in the browser, so a stroke
drawn the moment after lands on the same canvas. A canvas rebuilt from kept strokes (after a visit
to another page) is remounted by the server instead, holding all strokes but the last; the picture
of the drawing after each stroke is kept, so the prediction steps back with the strokes at once.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from ui import keys
from ui.drawing.canvas_buttons import canvas_buttons

SIZE = 280  # canvas side in px: fits a phone held upright
STROKES_KEPT = 40  # pictures kept for Undo (78 KB each)


def _state(name: str) -> dict:
    # pictures: stroke count -> the drawing's red channel (white ink on black) once that many strokes were down
    return st.session_state.setdefault(
        f"{keys.CANVAS_STATE}:{name}", {"version": 0, "start": None, "objects": [], "pictures": {}}
    )


def drawing_canvas(
    stroke_width: int, drawing_key: str = keys.DRAWING, name: str = "draw", clear_with: tuple[str, ...] = ()
) -> None:
    """Draw the canvas and its buttons; the latest drawing lands in st.session_state[drawing_key].

    name: which canvas, when a page has its own (each keeps its own strokes).
    clear_with: keys of buttons that take the drawing (their callbacks call take_drawing); the canvas
    empties in the browser the moment one is pressed.
    """
    from streamlit_drawable_canvas import st_canvas  # importing it outside a running app raises

    state = _state(name)
    state["drawing_key"] = drawing_key
    key = f"{keys.CANVAS}-{name}-{state['version']}"
    if key not in st.session_state:  # the browser has no such canvas yet: it starts from the strokes kept
        state["start"] = {"objects": state["objects"]} if state["objects"] else None
    canvas = st_canvas(
        stroke_width=stroke_width,
        stroke_color="#FFFFFF",
        background_color="#000000",
        height=SIZE,
        width=SIZE,
        drawing_mode="freedraw",
        initial_drawing=state["start"],
        return_image_data=True,
        key=key,
    )
    picture = canvas.image_data if canvas is not None else None
    if picture is not None:  # the canvas sent its drawing (after a stroke, an Undo or a Clear)
        objects = list((canvas.json_data or {}).get("objects", []))
        if objects == state.get("taken"):  # a drawing already taken, until the browser says it is cleared
            objects = []
        else:
            state.pop("taken", None)
        # Counts above this one belong to strokes taken back since.
        kept = {n: p for n, p in state["pictures"].items() if n < len(objects) and n > len(objects) - STROKES_KEPT}
        state["objects"] = objects
        if objects:
            state["pictures"] = {**kept, len(objects): np.asarray(picture)[..., 0].copy()}
            st.session_state[drawing_key] = np.asarray(picture)
        else:
            state["pictures"] = {}
            st.session_state.pop(drawing_key, None)
    canvas_buttons(
        key=f"buttons-{name}",
        strokes=len(state["objects"]),
        in_browser=state["start"] is None,  # the canvas's own Reset goes back to its start: empty only then
        on_undo=lambda: _restart(state, state["objects"][:-1]),
        on_clear=lambda: _restart(state, []),
        clear_with=clear_with,
        takes=state.get("takes", 0),
    )


def clear_canvas(name: str) -> None:
    """Empty the canvas `name` and forget its drawing; for a widget's callback (the run that follows
    draws the empty canvas)."""
    _restart(_state(name), [])


def take_drawing(name: str) -> np.ndarray | None:
    """The drawing on canvas `name`, which the next one replaces on an empty canvas (Teach it's "Add as
    an example"); for the callback of a button in drawing_canvas's clear_with. None: no drawing."""
    state = _state(name)
    state["takes"] = state.get("takes", 0) + 1  # the browser lets the next press through once it hears this
    drawing = st.session_state.pop(state.get("drawing_key", keys.DRAWING), None)
    if state["start"] is not None:  # the browser could not empty it: the server rebuilds it
        _restart(state, [])
    else:  # the browser empties it itself; until it says so, its strokes count as taken, not as a new drawing
        state.update(taken=state["objects"], objects=[], pictures={})
    return drawing


def _restart(state: dict, objects: list) -> None:
    """Remount the canvas holding `objects`; the drawing becomes the picture taken at that many strokes."""
    state.update(version=state["version"] + 1, objects=objects)
    grey = state["pictures"].get(len(objects))
    drawing_key = state.get("drawing_key", keys.DRAWING)
    if grey is not None:
        st.session_state[drawing_key] = np.dstack([grey, grey, grey, np.full_like(grey, 255)])
    else:  # cleared, or strokes drawn between two updates: the page waits for the next stroke
        st.session_state.pop(drawing_key, None)
