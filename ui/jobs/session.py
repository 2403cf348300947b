"""A session's jobs: starting one, and finding it again.

A reload (or a link opened in a new tab) starts a new Streamlit session with empty state; without
this, a run that took minutes would go on where nobody could see or keep it. So the page URL names
each of the session's jobs by its id, one parameter per slot (`?run=<id>` for the training run,
`?twins=<id>` and `?sweep=<id>` for the Residual Lab's), the server keeps recent jobs
(ui.jobs.registry.jobs), and session state only caches the job the URL names. The link only shows
the job: stopping it takes the starting session's secret token, which is never in the URL, so a
link on the projector cannot be used to stop the teacher's run.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Hashable

import streamlit as st
from streamlit.runtime import Runtime
from streamlit.runtime.scriptrunner import get_script_run_ctx

from ui import keys
from ui.jobs.job import FAILED, STOPPED, Job, Work, new_owner_token
from ui.jobs.registry import jobs
from ui.teacher import refusal

TRAINING, TWINS, SWEEP = "run", "twins", "sweep"  # a session's job slots, each named so in the URL


def session_token() -> str:
    """This session's secret: it may stop the jobs it started."""
    return st.session_state.setdefault(keys.OWNER_TOKEN, new_owner_token())


def _cached() -> dict[str, Job]:
    return st.session_state.setdefault(keys.JOBS, {})


def _remember(slot: str, job: Job) -> None:
    _cached()[slot] = job
    if st.query_params.get(slot) != job.id:
        st.query_params[slot] = job.id


def start_job(slot: str, work: Work, key: Hashable | None = None, estimated_seconds: float | None = None) -> Job | None:
    """Start `work` as this session's job in `slot`. With a `key`, a job the server already has for those
    settings (a classmate's, unless stopped or failed) is shared instead and nothing new starts.

    A student's run outside the teacher's limits (ui.teacher) is not started: the page says why, and
    None comes back.
    """
    shared = jobs.find(key) if key is not None else None
    if shared is None or shared.status in (STOPPED, FAILED):
        why = refusal(session_token(), client_address(), estimated_seconds)
        if why is not None:
            st.warning(why, icon=":material/block:")
            st.toast(why, icon=":material/block:")  # on a phone the warning can be a screen below the button
            return None
    job = Job(
        work,
        owner=session_token(),
        key=key,
        estimated_seconds=estimated_seconds,
        owner_connected=still_connected(),
        owner_address=client_address(),
    )
    kept = jobs.add(job)
    if kept is job:
        job.start()
    _remember(slot, kept)
    return kept


def client_address() -> str | None:
    """The network address this session's browser asks from; None where unknown or on this computer."""
    try:
        address = st.context.ip_address
    except Exception:  # noqa: BLE001 - outside a served app (AppTest) there is none
        return None
    return remote_address(address)


def remote_address(address: object) -> str | None:
    """A connection's address as one student's device: None for this computer or an unreadable address.
    An IPv4 address seen through IPv6 ("::ffff:127.0.0.1") is the IPv4 address it carries."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return None
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is not None:
        parsed = parsed.ipv4_mapped
    return None if parsed.is_loopback or parsed.is_unspecified else str(parsed)


def still_connected() -> Callable[[], bool] | None:
    """Whether this session is still connected to the server, on whichever page; None outside a server."""
    context = get_script_run_ctx()
    if context is None or not Runtime.exists():
        return None
    runtime, session_id = Runtime.instance(), context.session_id
    return lambda: runtime.is_active_session(session_id) is True  # AppTest's stand-in runtime answers a mock


def session_job(slot: str) -> Job | None:
    """The job the URL names in `slot`, else the one cached for it; writes its id back into the URL.

    Streamlit clears query parameters on every page change, so each run puts them back.
    """
    job = _cached().get(slot)
    wanted = st.query_params.get(slot)
    if wanted and (job is None or job.id != wanted):
        job = jobs.get(wanted)
        if job is None:
            del st.query_params[slot]
            _cached().pop(slot, None)
            st.toast(
                "The run in this link is no longer on the server (it restarted, or let the run go after "
                "newer ones): start a new one."
            )
            return None
    if job is not None:
        _remember(slot, job)
    return job


def shared_job(slot: str, key: Hashable) -> Job | None:
    """The job for these settings: the server's (perhaps a classmate's), else this session's own when the
    server has let it go. It becomes the session's job in `slot`."""
    job = jobs.find(key)
    mine = _cached().get(slot)
    if job is None and mine is not None and mine.key == key:
        job = mine
    if job is not None:
        _remember(slot, job)
    return job
