"""Follow the teacher: while the teacher leads, every student's screen goes where the projector goes.

The teacher's session, with "Lead the class" on, publishes what its screen shows: the page, the runs
its URL names (a training run, the lab's twins or sweep), the Residual Lab's settings, which pick
the lab's shared run, the network and block it looks inside, Convolution's filter and place,
Architecture's network, and the picture the pages that look inside a model are showing (a test image,
or the teacher's own drawing, which travels with the lead). Every other session looks every few
seconds; when the lead has moved since it last looked (or it has just opened), it takes the lead's
settings and goes to the lead's page, with the same runs in its URL. Between two moves a student may
wander; "Follow the teacher" off leaves the lead alone altogether.

On Draw & Predict and Teach it every student keeps drawing on their own canvas: the teacher's
drawing reaches their screens on Convolution, Feature Maps and the lab's "Inside a block".
"""

from __future__ import annotations

import streamlit as st

from ui import feature_view, keys, teacher, widget_state
from ui.input_picker import DRAWING, PICKERS, TEACHERS_DRAWING, picker_keys
from ui.jobs.session import SWEEP, TRAINING, TWINS, still_connected
from ui.lead import FOLLOWING, presenter
from ui.lesson import page_of

LOOK_EVERY = 5.0  # seconds: thirty phones looking cost the server about 3% of a core, and a move arrives within this
LAB_SETTINGS = ("lab:digits", "lab:epochs", "lab:depth", "lab:depths")  # they pick the lab's shared run
# The filter's place too: each step the teacher takes reruns every phone's page once, and a phone looks at
# most once every LOOK_EVERY seconds, so a teacher clicking through places costs each phone one rerun a look.
CONVOLUTION_SETTINGS = ("conv:filter", "conv:show", "conv:position")
ARCHITECTURE_SETTINGS = ("architecture:arch", "architecture:stem", "architecture:depth")
INSIDE_A_BLOCK_SETTINGS = ("anatomy-net", "anatomy-block")  # the lab's "Inside a block"
PICTURE_SETTINGS = tuple(key for name in PICKERS for key in picker_keys(name))
FOLLOWED_SETTINGS = (
    LAB_SETTINGS
    + CONVOLUTION_SETTINGS
    + ARCHITECTURE_SETTINGS
    + INSIDE_A_BLOCK_SETTINGS
    + (feature_view.LAYER,)
    + PICTURE_SETTINGS
)
RUN_SLOTS = (TRAINING, TWINS, SWEEP)
_TO_THE_TOP = "<script>document.querySelector('[data-testid=stMain]')?.scrollTo(0, 0); window.scrollTo(0, 0);</script>"
LEADING = "follow:leading"  # the teacher's toggle
SEEN = "follow:seen"  # the lead's move this session last took
MOVED = "follow:moved"  # what the teacher has just changed on this screen: said once
HERE = "follow:here"  # the URL path of the page this session runs
NEW_PAGE = "follow:new_page"  # the move took this session to another page: show it from its top


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
        return
    if presenter.lead() is None:
        _look_out()  # for a lead that starts later
        return
    st.session_state.setdefault(FOLLOWING, True)
    # No help icon: on a phone a tap on it lands on the switch and turns following off.
    st.toggle("Follow the teacher", key=FOLLOWING, on_change=_forget_seen_move)
    st.caption("On: your screen goes where the teacher's goes. Off: explore on your own.")
    st.session_state[HERE] = page
    moved = st.session_state.pop(MOVED, None)
    if moved:
        st.toast(moved, icon=":material/co_present:")
    if st.session_state.pop(NEW_PAGE, False):
        # The browser keeps the scroll through a page switch: the student would land part-way down a new page.
        st.html(_TO_THE_TOP, unsafe_allow_javascript=True)
    _look_out()


def publish_if_leading(page: str) -> None:
    """After a page has run (so what it chose, such as a random test image, is in session state): while the
    teacher leads, make this screen the class's lead. The Teacher page is not the class's."""
    if teacher.is_teacher() and st.session_state.get(LEADING) and page_of(page) is not None:
        presenter.publish(page, _runs_in_url(), _settings(), still_connected(), st.session_state.get(keys.DRAWING))


def _stop_leading() -> None:
    if not st.session_state.get(LEADING):
        presenter.stop()


def _forget_seen_move() -> None:
    """Following switched back on takes the lead's current move at the next look, not the teacher's next one."""
    st.session_state.pop(SEEN, None)


def _runs_in_url() -> dict[str, str]:
    return {slot: st.query_params[slot] for slot in RUN_SLOTS if slot in st.query_params}


def _settings() -> dict[str, object]:
    """The followed settings as a student's widgets take them: the teacher's own drawing is, to a student,
    the teacher's drawing."""
    settings = {key: st.session_state[key] for key in FOLLOWED_SETTINGS if key in st.session_state}
    return {key: TEACHERS_DRAWING if value == DRAWING else value for key, value in settings.items()}


@widget_state.fragment(run_every=LOOK_EVERY)
def _look_out() -> None:
    lead = presenter.lead()
    if lead is None or not st.session_state.get(FOLLOWING, True) or st.session_state.get(SEEN) == lead.move:
        return
    first_look = SEEN not in st.session_state  # a phone that has just joined, or has just come back to following
    st.session_state[SEEN] = lead.move
    same_page = st.session_state.get(HERE) == lead.page
    st.session_state[MOVED] = _what_moved(first_look, same_page)
    st.session_state[NEW_PAGE] = not same_page
    for key, value in lead.settings.items():
        st.session_state[key] = value
    kept: set[str] = st.session_state.setdefault(keys.KEPT_WIDGETS, set())
    kept.update(lead.settings)
    st.switch_page(page_of(lead.page), query_params=lead.runs)


def _what_moved(first_look: bool, same_page: bool) -> str:
    if not same_page:
        return "Your teacher moved the class here."
    if first_look:
        return "You are following your teacher's screen."
    return "Your teacher changed this page."
