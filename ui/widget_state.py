"""Widget values that stay while a student moves between pages.

Every page's widgets that should keep their values have keys and no defaults of their own: the page
puts its defaults in session state first (set_defaults), so that something else may put other values
there (a past run's settings, the settings of the run a link names). Streamlit forgets a widget's value
when a page without it runs; app.py hands every such value back on each run (keep_values), so coming
back to a page finds it as it was left.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from ui import keys


def set_defaults(defaults: Mapping[str, object]) -> None:
    """Give each widget key its default unless it has a value, and keep its value from now on."""
    kept: set[str] = st.session_state.setdefault(keys.KEPT_WIDGETS, set())
    for key, value in defaults.items():
        st.session_state.setdefault(key, value)
        kept.add(key)


def keep_values() -> None:
    """Hand back the kept widgets' values: written by the script, not by a widget, Streamlit keeps them
    through runs of pages that do not draw those widgets. Called before any page is drawn."""
    for key in st.session_state.get(keys.KEPT_WIDGETS, ()):
        if key in st.session_state:
            st.session_state[key] = st.session_state[key]


def fragment(body: Callable | None = None, *, run_every: float | None = None):
    """st.fragment, whose every run first hands the kept values back as a page's run does: at the end of a
    fragment's run Streamlit drops them too (a student's filter on Convolution was gone after five seconds
    on another page, where the follow look-out runs). Use it as @fragment or @fragment(run_every=...)."""

    def make(body: Callable) -> Callable:
        @functools.wraps(body)
        def run(*args, **kwargs):
            if _fragment_alone():  # in a page's full run app.py has handed them back, and widgets exist now
                keep_values()
            return body(*args, **kwargs)

        return st.fragment(run, run_every=run_every)

    return make(body) if body is not None else make


def _fragment_alone() -> bool:
    """Whether this run is one of fragments alone, not the whole page."""
    context = get_script_run_ctx()
    return bool(context is not None and context.fragment_ids_this_run)
