"""Waiting on background work in the tests: on a condition or a thread, never for a fixed time."""

from __future__ import annotations

import time


def wait_until(condition, seconds: float = 300) -> None:
    """Poll `condition` until it holds; fail with a timeout if it never does."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def finish(job, seconds: float = 300) -> None:
    """Wait for a job's thread to end (ui.jobs.job.Job)."""
    job.thread.join(timeout=seconds)
    assert job.finished, "timed out"
