"""The teacher: whoever runs the server. A teacher code, printed on the server's console when it starts
(or set in RESNET_TEACHER_CODE, or as teacher_code in .streamlit/secrets.toml), signs a session in as the
teacher. The teacher may stop any run and sets the limits every student's run must fit."""

from __future__ import annotations

import hmac
import os
import secrets
import sys
import threading
from dataclasses import dataclass, field

import streamlit as st

from resnet_core.training.progress import format_duration
from ui import keys
from ui.jobs.job import Job
from ui.jobs.registry import jobs

CODE_VARIABLE = "RESNET_TEACHER_CODE"


@dataclass
class ClassLimits:
    """What a student's run may ask for. The teacher's own runs are not limited."""

    # The longest run a student may start, by the speed measured on this server; the server's
    # RESNET_STUDENT_MINUTES sets it before class, the Teacher page during it.
    student_minutes: float = field(default_factory=lambda: _minutes_set_for_the_server())
    runs_per_student: int = 1  # runs (training, twins, sweep) a student may have running or waiting at once


def _minutes_set_for_the_server(default: float = 5.0) -> float:
    value = os.environ.get("RESNET_STUDENT_MINUTES")
    try:
        minutes = float(value) if value else default
    except ValueError:
        minutes = float("nan")
    if not minutes > 0:
        print(f"RESNET_STUDENT_MINUTES={value!r} is not a number of minutes: using {default:g}.", file=sys.stderr)
        return default
    return minutes


# The server's limits, for every session: process-level, so a client cannot reset them.
limits = ClassLimits()
_code_lock = threading.Lock()
_code: str | None = None


def teacher_code() -> str:
    """This server's teacher code: the one configured, else one made (and printed on the console) once."""
    global _code
    with _code_lock:
        if _code is None:
            _code = os.environ.get(CODE_VARIABLE) or _secret_code()
            if _code is None:
                _code = secrets.token_hex(3)  # six characters, read off the console and typed once
                print(
                    f"ResNet Explorer: the teacher code is {_code} (set {CODE_VARIABLE} to choose one)", file=sys.stderr
                )
        return _code


def _secret_code() -> str | None:
    try:
        code = st.secrets.get("teacher_code")
    except Exception:  # noqa: BLE001 - no secrets file (or an unreadable one) means none is configured
        return None
    return str(code) if code else None


def is_teacher() -> bool:
    return bool(st.session_state.get(keys.TEACHER))


def sign_in(code: str) -> bool:
    """Signs this session in as the teacher if `code` is the teacher code."""
    if hmac.compare_digest(code.strip().encode(), teacher_code().encode()):
        st.session_state[keys.TEACHER] = True
    return is_teacher()


def sign_out() -> None:
    st.session_state.pop(keys.TEACHER, None)


def sign_in_box() -> None:
    """The sidebar's teacher sign-in: the code once, then the Teacher page is in the navigation."""
    with st.expander("Teacher", icon=":material/supervisor_account:", expanded=False):
        if is_teacher():
            st.caption("Signed in as the teacher: the Teacher page lists every run, with Stop.")
            st.button("Sign out", key="teacher:sign-out", on_click=sign_out)
            return
        with st.form("teacher:sign-in", border=False, clear_on_submit=True):
            code = st.text_input(
                "Teacher code",
                type="password",
                help=f"the one set in {CODE_VARIABLE}, else the one printed on the server's console at start",
            )
            pressed = st.form_submit_button("Sign in")
        if pressed:
            if not code.strip():
                st.error("Enter the teacher code first.")
            elif sign_in(code):
                st.rerun()  # the navigation gains the Teacher page
            else:
                st.error(
                    f"That is not the teacher code: it is the one set in {CODE_VARIABLE}, or else the one "
                    "printed on the console of the computer running the app."
                )


def refusal(owner: str, address: str | None, estimated_seconds: float | None) -> str | None:
    """Why a student with this token (asking from `address`) may not start a run estimated at
    `estimated_seconds`; None: they may. Runs from the same device count even after a reload."""
    if is_teacher():
        return None
    theirs = [
        job
        for job in jobs.newest_first()
        if not job.finished and (job.owner == owner or (address is not None and job.owner_address == address))
    ]
    if len(theirs) >= limits.runs_per_student:
        return (
            f"You have {_runs(len(theirs))} going already ({_what(theirs[0])}): stop it or let it end first. "
            f"The teacher allows {_runs(limits.runs_per_student)} per student at a time, so the line stays short."
        )
    if estimated_seconds is not None and estimated_seconds > limits.student_minutes * 60:
        return (
            f"This run would take about {format_duration(estimated_seconds)} here, longer than the "
            f"{limits.student_minutes:g} minutes the teacher allows a student's run: "
            "use fewer training digits or passes (Quick fits)."
        )
    return None


def _runs(count: int) -> str:
    return f"{count} run" + ("" if count == 1 else "s")


def _what(job: Job) -> str:
    return {"training": "a training run", "twins": "a twin run", "sweep": "a depth sweep"}.get(job.work.kind, "a run")
