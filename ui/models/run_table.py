"""Every trained model this server knows of, as rows to compare: the starters, the checkpoints folder's
files and this server's finished runs."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from functools import partial
from pathlib import Path

from resnet_core.depth_study.reference import Reference
from resnet_core.depth_study.twins import TWINS
from resnet_core.files.checkpoints import Checkpoint, CheckpointError, load_checkpoint
from resnet_core.files.run_records import RunRecord, run_record
from resnet_core.networks.layer_tables import weightless_model
from resnet_core.networks.resnet import ARCHITECTURES
from resnet_core.training.config import TrainConfig
from ui.caches import ServerCache
from ui.jobs.job import DONE
from ui.jobs.registry import jobs
from ui.lab.in_advance import reference
from ui.lab.works import TwinWork
from ui.models.model_list import STARTER_DIR, STARTERS, checkpoint_dir, saved_checkpoints
from ui.resources import architecture_comparison
from ui.training.view import run_model
from ui.training.work import TrainingWork

_records: ServerCache[RunRecord | None] = ServerCache(most=64)  # a file's row, by its path, name and version
_in_advance_records: ServerCache[list[RunRecord]] = ServerCache(most=2)  # the lab's reference twins' rows


def _record_of_file(path: Path, modified: float, name: str, source: str) -> RunRecord | None:
    """A file's row, or None when it cannot be read."""
    try:
        checkpoint = load_checkpoint(path)
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
        name = names.get(path, path.name)
        # Read once per version of the file: its time and size name the version.
        key = (str(path), status.st_mtime, status.st_size, name, source)
        record = _records.get(key, partial(_record_of_file, path, status.st_mtime, name, source))
        if record is not None:
            records.append(record)
    return records


def all_runs() -> list[RunRecord]:
    starters = {STARTER_DIR / file: name for file, name in STARTERS.items()}
    records = _file_records(list(starters), starters, "starter")
    records += _file_records(saved_checkpoints(), {}, f"saved in {checkpoint_dir()}")
    for job in jobs.newest_first():
        work = job.work
        if not (isinstance(work, TrainingWork) and job.finished and work.has_model):
            continue
        checkpoint = Checkpoint(
            model=work.result.model,
            arch=work.config.arch,
            config=work.config,
            metrics={"test_accuracy": work.result.test.accuracy},
            history=work.result.history,
            training_state=None,
            epoch=len(work.epochs),
        )
        records.append(run_record(run_model(job).source, "run on this server", checkpoint, work.ended_at))
    return records + _lab_records()


def _twin_record(
    config: TrainConfig, twin: str, final: dict, test_digits: int, name: str, source: str, date, pair_seconds: float
) -> RunRecord:
    """A Residual Lab twin's row: its settings and final test; the pair trained together, so the pair's time."""
    config = replace(config, residual=twin == "residual")
    checkpoint = Checkpoint(
        model=weightless_model(config.arch, config.stem, residual=config.residual),  # shapes for the counts
        arch=config.arch,
        config=config,
        metrics={"test_accuracy": final[twin]["test_accuracy"], "test_digits": test_digits},
        history=None,
        training_state=None,
        epoch=config.epochs,
    )
    shortcuts = "with shortcuts" if twin == "residual" else "without shortcuts"
    return replace(
        run_record(f"{name}: {config.arch} {shortcuts}", source, checkpoint, date), pair_seconds=pair_seconds
    )


def _lab_records() -> list[RunRecord]:
    """The Residual Lab's trained twins: its twin runs finished on this server, then those measured in advance."""
    records = []
    for job in jobs.newest_first():
        if job.status == DONE and isinstance(job.work, TwinWork) and job.work.twins.final:
            twins = job.work.twins
            for twin in TWINS:
                name = f"Lab run {job.id[:4]}"
                records.append(
                    _twin_record(
                        twins.config,
                        twin,
                        twins.final,
                        len(twins.data.test_labels),
                        name,
                        "Residual Lab run",
                        None,
                        twins.snapshot().seconds,
                    )
                )
    ref = reference()
    if ref is not None:
        # They never change while the server runs: made once (six weightless nets cost ~40 ms a page).
        records += _in_advance_records.get((ref.machine, ref.made, tuple(ref.runs)), partial(_reference_records, ref))
    return records


def _reference_records(ref: Reference) -> list[RunRecord]:
    made = datetime.fromisoformat(ref.made)
    return [
        _twin_record(
            replace(ref.config, arch=arch),
            twin,
            run["final"],
            ref.test_subset,
            "Lab",
            "Residual Lab, in advance",
            made,
            run["seconds"],
        )
        for arch, run in ref.runs.items()
        for twin in TWINS
    ]


def mult_adds(record: RunRecord) -> int | None:
    """Multiply-adds per image, measured on the architecture with the record's stem (None: unknown net)."""
    if record.arch not in ARCHITECTURES:
        return None
    rows = architecture_comparison(record.stem, ARCHITECTURES[record.arch].family)
    return next((row.mult_adds for row in rows if row.name == record.arch), None)
