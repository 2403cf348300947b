"""The Residual Lab's settings: its widgets' keys and defaults, and the key that names a run by them.

Equal settings, equal runs: a class opening the lab with the same settings shares one run
(ui.jobs.registry), and a link to a run opens the lab with that run's settings.
"""

from __future__ import annotations

from collections.abc import Sequence

from ui.jobs.session import SWEEP, TWINS

DIGITS = {"1,000 digits": 1_000, "4,000 digits": 4_000, "10,000 digits": 10_000, "all 60,000 digits": None}
# The settings the lab's results measured in advance (assets/lab-reference.pt) were made with: the lab
# opens on them at once. Live, 56-layer twins on 4,000 digits take 40-47 s on a 2-core CPU.
DEFAULTS = {
    "lab:digits": "all 60,000 digits",
    "lab:epochs": 1,
    "lab:depth": "resnet56",  # the twins'
    "lab:depths": ["resnet8", "resnet20", "resnet56"],  # the sweep's
}


def twin_key(arch: str, digits: str, epochs: int) -> tuple:
    return (TWINS, arch, DIGITS[digits], epochs)


def sweep_key(depths: Sequence[str], digits: str, epochs: int) -> tuple:
    return (SWEEP, tuple(depths), DIGITS[digits], epochs)


def settings_of(key: tuple) -> dict:
    """The widget values that show the run with this key (twin_key's or sweep_key's) again."""
    kind, what, digits, epochs = key
    label = next(label for label, count in DIGITS.items() if count == digits)
    return {"lab:digits": label, "lab:epochs": epochs} | (
        {"lab:depth": what} if kind == TWINS else {"lab:depths": list(what)}
    )


def defaults(linked: Sequence[tuple]) -> dict:
    """The widgets' defaults, the settings of the runs with these keys (the ones the page URL names) first."""
    values = dict(DEFAULTS)
    for key in linked:
        values |= settings_of(key)
    return values
