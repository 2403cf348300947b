"""The Residual Lab's results measured in advance (assets/lab-reference.pt), shown at once.

For the settings the file was measured with, the lab's sections open on finished runs instead of a
Start button: a lesson shows the paper's picture without waiting for a live run. Each is a finished
Job that lives outside the server's registry, so a live run with the same settings, once started,
replaces it on every screen.
"""

from __future__ import annotations

import os
import threading
from dataclasses import replace
from pathlib import Path

from resnet_core.data.datasets import TRAINING_SET_SIZE
from resnet_core.depth_study.reference import Reference, load_reference, restore_twins
from resnet_core.depth_study.twins import DepthSweep, default_twin_config
from ui.caches import once_per
from ui.jobs.job import DONE, Job
from ui.jobs.session import TWINS, shared_job
from ui.lab.works import SweepWork, TwinWork
from ui.models.model_list import STARTER_DIR
from ui.resources import shared_lab_data

REFERENCE_FILE = "lab-reference.pt"

_loaded: dict[Path, Reference | None] = {}
_jobs: dict[tuple, Job] = {}
_guard = threading.Lock()


def reference() -> Reference | None:
    """The reference file beside the starter models, read once per server; None when there is none
    (or it cannot be read: the lab then works as before, live only)."""
    path = Path(os.environ.get("RESNET_STARTER_DIR", STARTER_DIR)) / REFERENCE_FILE
    with _guard:
        if path not in _loaded:
            try:
                _loaded[path] = load_reference(path) if path.is_file() else None
            except ValueError:
                _loaded[path] = None
        return _loaded[path]


def matches(ref: Reference, digits: int | None, epochs: int) -> bool:
    """Whether the reference was measured with these lab settings and the lab's own twin recipe."""
    lab_recipe = replace(default_twin_config(epochs=epochs), arch=ref.config.arch, device=ref.config.device)
    return ref.train_subset == digits and ref.config == lab_recipe


def measured_in_advance(job: Job | None) -> bool:
    return job is not None and getattr(job.work, "in_advance", None) is not None


def in_advance_job(slot: str, key: tuple) -> Job | None:
    """The finished job measured in advance for a lab key (ui.lab.settings), or None when there is none."""
    ref = reference()
    _, _, digits, epochs = key
    if ref is None or not matches(ref, digits, epochs):
        return None
    archs = _depths(slot, key)
    if not set(archs) <= set(ref.runs):
        return None
    with _guard:
        job = _jobs.get(key)
    if job is None:
        job = _jobs.setdefault(key, _make_job(ref, slot, key, archs))
    return job


def _make_job(ref: Reference, slot: str, key: tuple, archs: list[str]) -> Job:
    data = shared_lab_data(ref.train_subset, ref.test_subset)
    if slot == TWINS:
        run = restore_twins(ref, archs[0], data)
        # The studies measured with the run: the sections find them made and show them at once.
        once_per(run, "lesions", lambda: ref.lesions(archs[0]))
        once_per(run, "loss slices", lambda: ref.slices(archs[0]))
        work = TwinWork(run, in_advance=ref)
    else:
        sweep = DepthSweep(archs, replace(ref.config, arch=archs[0]), data)
        sweep.points = ref.sweep_points(archs)
        work = SweepWork(sweep, in_advance=ref)
    return Job(work, key=key, status=DONE)


def estimated_seconds(slot: str, key: tuple) -> float | None:
    """How long a run with these settings would take, scaled from the runs measured in advance (on their
    machine); None without them."""
    ref = reference()
    if ref is None:
        return None
    _, _, digits, epochs = key
    return ref.estimated_seconds(_depths(slot, key), digits, epochs)


def what_opens_at_once() -> str | None:
    """The settings whose results are measured in advance, in the lab's words; None without them."""
    ref = reference()
    if ref is None:
        return None
    layers = [arch.removeprefix("resnet") for arch in ref.archs]
    depths = ", ".join(layers[:-1]) + " and " + layers[-1] if len(layers) > 1 else layers[0]
    digits = f"{ref.train_subset:,}" if ref.train_subset else f"all {TRAINING_SET_SIZE:,}"
    return f"{depths} layers on {digits} digits for {ref.config.epochs} epoch" + ("s" if ref.config.epochs > 1 else "")


def _depths(slot: str, key: tuple) -> list[str]:
    """The architectures a lab key (ui.lab.settings) trains: the twins' one, or the sweep's."""
    what = key[1]
    return [what] if slot == TWINS else list(what)


def lab_job(slot: str, key: tuple) -> Job | None:
    """What the lab shows for these settings: the class's run if there is one, else the one measured in advance."""
    return shared_job(slot, key) or in_advance_job(slot, key)
