"""What the app makes once and shares between sessions, and the one rule for making it.

Two stores. Per object (a model, a run): the value goes when its object does, so a model dropped
from every list takes its predictor and its examination along. Per server (keyed by plain values:
a network's layer table, its measured speed, a checkpoint's contents): bounded, the least recently
used going first.

The rule: a value is made OUTSIDE any lock. A slow one (seconds of testing, a speed measurement)
never holds up another session; two sessions asking for the same key at once may both make it, and
the first one kept wins, so every session then shares one value. Both stores are process-level
objects, not st.cache_resource: no client's "Clear cache" resets what the whole room shares.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

import torch

T = TypeVar("T")

_per_object: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_per_object_lock = threading.Lock()  # held only to read or file a value, never while one is made


def once_per(owner: object, what: Hashable, make: Callable[[], T]) -> T:
    """`make()`'s result for `owner` and `what`, made on first use and dropped with `owner`.

    Keyed by the object itself, never by id(): an id is reused once its object is gone. The value
    must not hold `owner`, or neither is ever dropped.
    """
    with _per_object_lock:
        made = _per_object.get(owner, {})
        if what in made:
            return made[what]
    value = make()
    with _per_object_lock:
        return _per_object.setdefault(owner, {}).setdefault(what, value)


def latest_per(owner: object, what: Hashable, version: Hashable, make: Callable[[], T]) -> T:
    """`make()`'s result for `owner` and `what` as of `version`, remade when the version changes; only the
    latest is kept. For what every watcher of a live run draws: one figure per new point, not one per
    watcher and second."""
    with _per_object_lock:
        kept = _per_object.get(owner, {}).get(what)
        if kept is not None and kept[0] == version:
            return kept[1]
    value = make()
    with _per_object_lock:
        _per_object.setdefault(owner, {})[what] = (version, value)
    return value


def made_for(owner: object, what: Hashable) -> bool:
    """Whether `once_per(owner, what, ...)` has a value already (so asking for it costs nothing)."""
    with _per_object_lock:
        return what in _per_object.get(owner, {})


def tensor_bytes(*tensors: torch.Tensor) -> int:
    return sum(t.numel() * t.element_size() for t in tensors)


def model_bytes(model: torch.nn.Module) -> int:
    """Bytes of a model's weights and buffers."""
    return tensor_bytes(*model.parameters(), *model.buffers())


class ServerCache(Generic[T]):
    """Values by key for every session of the server, at most `most` in all (each weighs `weigh(value)`,
    1 unless given: bytes, say); past that the least recently used go. The newest always stays."""

    def __init__(self, most: int, weigh: Callable[[T], int] = lambda value: 1) -> None:
        self.most = most
        self._weigh = weigh
        self._values: OrderedDict[Hashable, tuple[T, int]] = OrderedDict()
        self._guard = threading.Lock()  # held only to read or file a value, never while one is made

    def peek(self, key: Hashable) -> T | None:
        """The value kept for `key`, or None; makes nothing."""
        with self._guard:
            if key not in self._values:
                return None
            self._values.move_to_end(key)
            return self._values[key][0]

    def get(self, key: Hashable, make: Callable[[], T]) -> T:
        """The value for `key`, made by `make()` (outside the lock) when none is kept."""
        with self._guard:
            if key in self._values:
                self._values.move_to_end(key)
                return self._values[key][0]
        value = make()
        weight = self._weigh(value)
        with self._guard:
            if key in self._values:  # another session made it meanwhile: the first kept wins
                self._values.move_to_end(key)
                return self._values[key][0]
            self._values[key] = (value, weight)
            while len(self._values) > 1 and sum(w for _, w in self._values.values()) > self.most:
                self._values.popitem(last=False)
            return value
