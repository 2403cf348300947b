"""The little CSS the app adds to Streamlit's, each rule for a reason a reader can check in a browser."""

import streamlit as st

from ui.diagrams import FONT_SIZE
from ui.keys import CANVAS

TEACHER_NOTE = "teacher-note"  # the key (prefix) of a container whose text a teacher reads to the class

# Streamlit sets the text of Graphviz drawings to 0.6rem (9.6 px), whatever size the drawing asks for;
# at the size the diagrams are laid out for, labels are about 24 px on screen: readable on a projector.
_CSS = f"""
<style>
[data-testid="stGraphVizChart"] svg text {{ font-size: {FONT_SIZE}px !important; }}
/* A teacher's sentences: 18 px where body text is 16, for the back row of a projected room. */
[class*="st-key-{TEACHER_NOTE}"] p {{ font-size: 1.125rem; }}
/* Captions carry measured figures a class reads too: 15 px and a darker grey than Streamlit's 14 px. */
[data-testid="stCaptionContainer"] {{ font-size: 0.9375rem; color: rgba(49, 51, 63, 0.78); }}
/* Plain tables (the networks side by side) at body size, 16 px, where Streamlit sets them at 14. */
[data-testid="stTable"] th, [data-testid="stTable"] td {{ font-size: 1rem; }}
/* On a phone, cells a little tighter, so that a table's first columns fit across the screen. */
@media (max-width: 640px) {{
  [data-testid="stTable"] th, [data-testid="stTable"] td {{ padding: 0.4rem 0.45rem; }}
}}
/* The drawing canvas shows its own toolbar 2.65rem above itself while the mouse is over it: room for it, so
   that it does not cover what is above (the Draw / Upload choice). Phones have no hover and never show it. */
@media (hover: hover) {{
  [class*="st-key-{CANVAS}-"] {{ margin-top: 2.25rem; }}
}}
</style>
"""


def apply() -> None:
    st.html(_CSS)
