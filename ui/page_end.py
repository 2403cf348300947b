"""Ending a page early: what st.stop() does, but the app frame's work after the page still runs.

After st.stop() every read of session state in the same run raises Streamlit's StopException again,
so app.py could not publish the leading teacher's screen after such a page (the Train page before a
run ends there, and students' phones stayed where they were). A page raises PageEnd instead, and
app.py treats it as the page's normal end.
"""

from typing import NoReturn


class PageEnd(Exception):  # noqa: N818 - not an error: the page has drawn all it has to show
    """Raised by end_page; caught by app.py around the page."""


def end_page() -> NoReturn:
    """Stop drawing this page here (the page has shown why it cannot go on)."""
    raise PageEnd
