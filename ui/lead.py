"""The server's one lead: what the leading teacher's screen shows, written by the teacher's session and
read by every student's (ui.follow draws the switches and moves the students' screens)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np
import streamlit as st

from ui import teacher

FOLLOWING = "follow:following"  # a student's "Follow the teacher" switch


@dataclass(frozen=True)
class Lead:
    page: str  # the page's URL path ("residual_lab"; "" for the first page)
    runs: dict[str, str] = field(default_factory=dict)  # URL slot -> run id, as the teacher's URL names them
    settings: dict[str, object] = field(default_factory=dict)  # widget key -> value
    move: int = 0  # counts the lead's changes
    connected: Callable[[], bool] | None = None  # whether the teacher's session is still there
    drawing: np.ndarray | None = None  # the teacher's last drawing (H, W, 4), shown where settings pick it


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
        self,
        page: str,
        runs: dict[str, str],
        settings: dict[str, object],
        connected: Callable[[], bool] | None,
        drawing: np.ndarray | None = None,
    ) -> None:
        """A move when the page, runs or settings changed. A new drawing alone is no move: the teacher draws
        on Draw & Predict, where every student draws their own, and it is on screen where the teacher goes next."""
        with self._lock:
            last = self._lead
            if last is not None and (last.page, last.runs, last.settings) == (page, runs, settings):
                if last.drawing is not drawing:
                    self._lead = replace(last, drawing=drawing)
                return
            self._lead = Lead(page, runs, settings, (last.move + 1) if last else 1, connected, drawing)

    def stop(self) -> None:
        with self._lock:
            self._lead = None


presenter = Presenter()


def teachers_drawing() -> np.ndarray | None:
    """The leading teacher's drawing, for a student who follows; None otherwise."""
    lead = presenter.lead()
    if lead is None or teacher.is_teacher() or not st.session_state.get(FOLLOWING, True):
        return None
    return lead.drawing
