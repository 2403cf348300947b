"""A teacher's note: what to read aloud and what the class should look for, a size up from body text
(ui.style: TEACHER_NOTE) so that the back row of a projected room can read it."""

import zlib

import streamlit as st

from ui.style import TEACHER_NOTE


def teacher_note(read_aloud: str, look_for: str) -> None:
    with st.container(key=f"{TEACHER_NOTE}-{zlib.crc32(read_aloud.encode())}"):
        st.markdown(read_aloud)
        st.markdown(f":material/visibility: **What to look for:** {look_for}")
