"""Every session's jobs, by id and by settings: a reloaded page finds its job again, and a class
asking for the same settings (the Residual Lab's runs) shares one job instead of each starting its own."""

from __future__ import annotations

import threading
from collections.abc import Hashable

from ui.jobs.job import FAILED, STOPPED, Job


class JobRegistry:
    """Keeps every unfinished job and, of each kind of work, the `keep_finished` newest finished ones:
    a finished job holds what it trained, and one nobody comes back for should not hold memory forever."""

    def __init__(self, keep_finished: int = 4) -> None:
        self.keep_finished = keep_finished
        self._jobs: dict[str, Job] = {}  # by id, in the order they were added
        self._guard = threading.Lock()

    def add(self, job: Job) -> Job:
        """Keep `job` and return it; or, when a job with the same key is here and was not stopped or
        failed, return that one instead and keep nothing new (two sessions pressing Start at once: the
        first wins). A stopped or failed job with the key is replaced."""
        with self._guard:
            if job.key is not None:
                same = self._with_key(job.key)
                if same is not None and same.status not in (STOPPED, FAILED):
                    return same
                if same is not None:
                    del self._jobs[same.id]
            self._jobs[job.id] = job
            finished = [kept.id for kept in self._jobs.values() if kept.finished and kept.work.kind == job.work.kind]
            for job_id in finished[: max(0, len(finished) - self.keep_finished)]:
                del self._jobs[job_id]
        return job

    def get(self, job_id: str) -> Job | None:
        with self._guard:
            return self._jobs.get(job_id)

    def find(self, key: Hashable) -> Job | None:
        """The job kept for these settings, or None."""
        with self._guard:
            return self._with_key(key)

    def newest_first(self) -> list[Job]:
        with self._guard:
            return list(reversed(self._jobs.values()))

    def _with_key(self, key: Hashable) -> Job | None:
        return next((job for job in reversed(self._jobs.values()) if job.key == key), None)


# The server's jobs, for every session: a process-level object, so no client's "Clear cache" can
# lose a run that others are watching.
jobs = JobRegistry()
