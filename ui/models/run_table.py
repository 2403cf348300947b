"""Every trained model this server knows of, as rows to compare: the starters, the checkpoints folder's
files and this server's finished runs."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import streamlit as st

from resnet_core.files.checkpoints import Checkpoint, CheckpointError, load_checkpoint
from resnet_core.networks.resnet import ARCHITECTURES
from resnet_core.training.run_records import RunRecord, run_record
from ui.models.model_list import STARTER_DIR, STARTERS, checkpoint_dir, saved_checkpoints
from ui.resources import architecture_comparison, job_registry
from ui.training.view import run_model


@st.cache_resource(max_entries=64, show_spinner=False)
def _record_of_file(path: str, modified: float, size: int, name: str, source: str) -> RunRecord | None:
    """A file's row, read once per version of the file (its time and size name the version)."""
    try:
        checkpoint = load_checkpoint(Path(path))
    except (CheckpointError, OSError):
        return None  # unreadable: left out, as the Draw page leaves it out
    return run_record(name, source, checkpoint, datetime.fromtimestamp(modified))


def _file_records(paths: list[Path], names: dict[Path, str], source: str) -> list[RunRecord]:
    records = []
    for path in paths:
        try:
            status = path.stat()
        except OSError:
            continue
        record = _record_of_file(str(path), status.st_mtime, status.st_size, names.get(path, path.name), source)
        if record is not None:
            records.append(record)
    return records


def all_runs() -> list[RunRecord]:
    starters = {STARTER_DIR / file: name for file, name in STARTERS.items()}
    records = _file_records(list(starters), starters, "starter")
    records += _file_records(saved_checkpoints(), {}, f"saved in {checkpoint_dir()}")
    for job in job_registry().finished_runs():
        result = job.result
        checkpoint = Checkpoint(
            model=result.model,
            arch=job.config.arch,
            config=job.config,
            metrics={"test_accuracy": result.test.accuracy},
            history=result.history,
            training_state=None,
            epoch=len(job.epochs),
        )
        records.append(run_record(run_model(job).source, "run on this server", checkpoint, job.ended_at))
    return records


def mult_adds(record: RunRecord) -> int | None:
    """Multiply-adds per image, measured on the architecture with the record's stem (None: unknown net)."""
    if record.arch not in ARCHITECTURES:
        return None
    rows = architecture_comparison(record.stem, ARCHITECTURES[record.arch].family)
    return next((row.mult_adds for row in rows if row.name == record.arch), None)
