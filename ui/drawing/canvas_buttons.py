"""Undo stroke and Clear for a drawing canvas, done in the browser where they can be.

A button that asks the server to remount the canvas loses any stroke drawn before the new canvas
arrives: in class, with the server busy, that is a second or more, and a student draws the next digit
the moment Clear is pressed. So these buttons press the canvas's own Undo and Reset (its toolbar,
hidden on touch screens) in the browser: the canvas clears at once, the stroke that follows lands
on it, and the canvas sends the server its new state as after any stroke. Where the browser cannot
(a canvas rebuilt from saved strokes after a visit to another page resets to those strokes, not to
empty), the press goes to the server instead, which rebuilds the canvas as before.

Another button on the page can empty the canvas the same way when it is pressed (Teach it's "Add as an
example"): its press still goes to the server, which takes the drawing it already holds, while the
browser resets the canvas at once.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

_HTML = """<div class="canvas-buttons">
  <button type="button" data-action="undo"><span class="icon">undo</span>Undo stroke</button>
  <button type="button" data-action="clear"><span class="icon">delete</span>Clear</button>
</div>"""

# Streamlit's secondary button, as far as a component outside its styles can copy it.
_CSS = """
.canvas-buttons { display: flex; gap: 1rem; width: 100%; }
.canvas-buttons button {
  flex: 1; display: inline-flex; align-items: center; justify-content: center; gap: 0.5rem;
  min-height: 2.5rem; padding: 0.25rem 0.75rem; cursor: pointer; font: inherit; font-size: 1rem;
  color: var(--st-text-color, #31333f); background: var(--st-background-color, #fff);
  border: 1px solid var(--st-border-color, rgba(49, 51, 63, 0.2)); border-radius: var(--st-button-radius, 0.5rem);
}
.canvas-buttons button:hover:not(:disabled) { border-color: var(--st-primary-color, #e6550d);
  color: var(--st-primary-color, #e6550d); }
.canvas-buttons button:disabled { cursor: not-allowed; opacity: 0.4; }
.canvas-buttons .icon { font-family: "Material Symbols Rounded"; font-size: 1.25rem; line-height: 1; }
"""

# The canvas's own toolbar buttons, by their labels in streamlit-drawable-canvas 0.13.
_JS = """
const CANVAS_BUTTONS = { undo: "Undo", clear: "Reset canvas & history" };

// The toolbar button of the nearest canvas drawn before these buttons (each canvas lives in its own
// shadow root), or null.
function canvasButton(host, action) {
  let found = null;
  for (const other of document.querySelectorAll("[data-testid=stBidiComponentIsolated]")) {
    if (!other.shadowRoot || !(other.compareDocumentPosition(host) & Node.DOCUMENT_POSITION_FOLLOWING)) continue;
    const button = other.shadowRoot.querySelector(`button[aria-label="${CANVAS_BUTTONS[action]}"]`);
    if (button) found = button;
  }
  return found;
}

// Pressing a Streamlit button with one of these keys takes the drawing and empties the canvas. The reset
// waits a tick so that the button's own message leaves first: the server takes the drawing, then hears
// the canvas was cleared. A second press before the server has taken the first drawing is dropped: the
// two would arrive as one press, and the stroke drawn in between would be wiped untaken.
function clearWith(host, data) {
  if (host.clearWithListener) document.removeEventListener("click", host.clearWithListener, true);
  host.clearWithListener = (event) => {
    const pressed = event.target.closest && event.target.closest("button");
    if (!pressed || pressed.disabled || !data.clear_with.some((key) => pressed.closest(`.st-key-${key}`))) return;
    if ((host.takesAwaited ?? 0) > data.takes) {
      event.preventDefault();
      event.stopImmediatePropagation();
      return;
    }
    host.takesAwaited = data.takes + 1;
    const reset = data.in_browser ? canvasButton(host, "clear") : null;
    if (reset) setTimeout(() => reset.click(), 0);
  };
  document.addEventListener("click", host.clearWithListener, true);
  return () => document.removeEventListener("click", host.clearWithListener, true);
}

export default function ({ data, parentElement, setTriggerValue }) {
  const host = parentElement.host || parentElement;
  const stopListening = clearWith(host, data);
  for (const button of parentElement.querySelectorAll("button")) {
    const action = button.dataset.action;
    button.disabled = !data.strokes;
    button.onclick = () => {
      const own = data.in_browser ? canvasButton(host, action) : null;
      if (own) own.click();
      else setTriggerValue(action, true);
    };
  }
  return stopListening;
}
"""

_buttons = st.components.v2.component("resnet_explorer.canvas_buttons", html=_HTML, css=_CSS, js=_JS)


def canvas_buttons(
    key: str,
    strokes: int,
    in_browser: bool,
    on_undo: Callable[[], None],
    on_clear: Callable[[], None],
    clear_with: tuple[str, ...] = (),
    takes: int = 0,
) -> None:
    """Undo stroke and Clear under a canvas holding `strokes` strokes.

    in_browser: the canvas's own reset empties it (it was not rebuilt from saved strokes); then both are
    done in the browser and the server hears of them as a new drawing. Otherwise on_undo / on_clear run
    on the server, before the rerun the press starts.
    clear_with: keys of Streamlit buttons whose press also empties the canvas in the browser (when
    in_browser); their callbacks take the drawing with ui.drawing.canvas.take_drawing.
    takes: how many drawings such presses have taken so far.
    """
    _buttons(
        key=key,
        data={"strokes": strokes, "in_browser": in_browser, "clear_with": list(clear_with), "takes": takes},
        on_undo_change=on_undo,
        on_clear_change=on_clear,
        width="stretch",
    )
