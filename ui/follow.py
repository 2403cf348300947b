"""Follow the teacher: while the teacher leads, every student's screen goes where the projector goes.

The teacher's session, with "Lead the class" on, publishes what its screen shows: the page, the runs
its URL names (a training run, the lab's twins or sweep) and the Residual Lab's settings, which pick
the lab's shared run. Every other session looks every few seconds; when the lead has moved since it
last looked (or it has just opened), it takes the lead's settings and goes to the lead's page, with
the same runs in its URL. Between two moves a student may wander; "Follow the teacher" off leaves
the lead alone altogether.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import streamlit as st

from ui import keys, teacher
from ui.jobs.session import SWEEP, TRAINING, TWINS, still_connected
from ui.lesson import page_of

LOOK_EVERY = 5.0  # seconds: thirty phones looking cost the server about 3% of a core, and a move arrives within this
FOLLOWED_SETTINGS = ("lab:digits", "lab:epochs", "lab:depth", "lab:depths")  # they pick the lab's shared run
RUN_SLOTS = (TRAINING, TWINS, SWEEP)
LEADING = "follow:leading"  # the teacher's toggle
FOLLOWING = "follow:following"  # a student's toggle
SEEN = "follow:seen"  # the lead's move this session last took
MOVED = "follow:moved"  # the teacher has just moved this screen: say so once


@dataclass(frozen=True)
class Lead:
    page: str  # the page's URL path ("residual_lab"; "" for the first page)
    runs: dict[str, str] = field(default_factory=dict)  # URL slot -> run id, as the teacher's URL names them
    settings: dict[str, object] = field(default_factory=dict)  # widget key -> value
    move: int = 0  # counts the lead's changes
    connected: Callable[[], bool] | None = None  # whether the teacher's session is still there


class Presenter:
    """The one lead of this server, written by the teacher's session, read by everyone's."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._lead: Lead | None = None

    def lead(self) -> Lead | None:
        """The lead, None when nobody leads or the teacher's session has closed (a closed laptop leads no one)."""
        with self._lock:
            lead = self._lead
        if lead is not None and lead.connected is not None and not lead.connected():
            return None
        return lead

    def publish(
        self, page: str, runs: dict[str, str], settings: dict[str, object], connected: Callable[[], bool] | None
    ) -> None:
        with self._lock:
            last = self._lead
            if last is not None and (last.page, last.runs, last.settings) == (page, runs, settings):
                return
            self._lead = Lead(page, runs, settings, (last.move + 1) if last else 1, connected)

    def stop(self) -> None:
        with self._lock:
            self._lead = None


presenter = Presenter()


def lead_or_follow(page: str) -> None:
    """For the sidebar of every run of the app, `page` being the URL path of the page about to run: the
    teacher's Lead switch (publishing this screen while on), or a student's Follow switch and look-out."""
    if teacher.is_teacher():
        st.toggle(
            "Lead the class",
            key=LEADING,
            on_change=_stop_leading,
            help="Students' screens go to this page, this run and these Residual Lab settings whenever you move.",
        )
        if st.session_state.get(LEADING) and page_of(page) is not None:  # the Teacher page is not the class's
            presenter.publish(page, _runs_in_url(), _settings(), still_connected())
        return
    if presenter.lead() is None:
        _look_out()  # for a lead that starts later
        return
    st.session_state.setdefault(FOLLOWING, True)
    # No help icon: on a phone a tap on it lands on the switch and turns following off.
    st.toggle("Follow the teacher", key=FOLLOWING)
    st.caption("On: your screen goes where the teacher's goes. Off: explore on your own.")
    if st.session_state.pop(MOVED, False):
        st.toast("Your teacher moved the class here.", icon=":material/co_present:")
    _look_out()


def _stop_leading() -> None:
    if not st.session_state.get(LEADING):
        presenter.stop()


def _runs_in_url() -> dict[str, str]:
    return {slot: st.query_params[slot] for slot in RUN_SLOTS if slot in st.query_params}


def _settings() -> dict[str, object]:
    return {key: st.session_state[key] for key in FOLLOWED_SETTINGS if key in st.session_state}


@st.fragment(run_every=LOOK_EVERY)
def _look_out() -> None:
    lead = presenter.lead()
    if lead is None or not st.session_state.get(FOLLOWING, True) or st.session_state.get(SEEN) == lead.move:
        return
    st.session_state[SEEN] = lead.move
    st.session_state[MOVED] = True
    for key, value in lead.settings.items():
        st.session_state[key] = value
    kept: set[str] = st.session_state.setdefault(keys.KEPT_WIDGETS, set())
    kept.update(lead.settings)
    st.switch_page(page_of(lead.page), query_params=lead.runs)
