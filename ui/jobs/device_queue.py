"""First come, first served use of each device by every session's jobs: the job at the head of a
device's line has the device, and the others know their place."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

import torch


class DeviceQueue:
    """The line for one device. Unlike a plain lock it knows who waits, so a waiting page can say "you are 3rd".

    A job in line has a `stop_event`: a stopped job leaves the line at once.
    """

    def __init__(self) -> None:
        self._line: list = []
        self._changed = threading.Condition()

    @contextlib.contextmanager
    def turn(self, job) -> Iterator[bool]:
        """Wait in line for the device; yields True with the device held, False if the job was stopped first."""
        with self._changed:
            self._line.append(job)
            while self._line[0] is not job and not job.stop_event.is_set():
                self._changed.wait(timeout=0.5)
        try:
            yield self._line[0] is job and not job.stop_event.is_set()
        finally:
            with self._changed:
                self._line.remove(job)
                self._changed.notify_all()

    @property
    def busy(self) -> bool:
        return bool(self._line)

    def ahead_of(self, job) -> list:
        """The jobs before `job` in line, the one using the device first; [] when it is first or not in line."""
        with self._changed:
            return list(self._line[: self._line.index(job)]) if job in self._line else []


class DeviceQueues:
    """One line per device."""

    def __init__(self) -> None:
        self._queues: dict[str, DeviceQueue] = {}
        self._guard = threading.Lock()

    def for_device(self, device: torch.device | str) -> DeviceQueue:
        with self._guard:
            return self._queues.setdefault(str(torch.device(device)), DeviceQueue())


# The server's lines, shared by every session's jobs: a process-level object, so no client's
# "Clear cache" can empty a line that runs are waiting in.
device_queues = DeviceQueues()
