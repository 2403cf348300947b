"""Things computed once per server and shared, read-only, by every session."""

from __future__ import annotations

import threading

import streamlit as st
import torch

from resnet_core.data.datasets import DATASETS, DatasetUnavailable, load_split, resolve_data_dir
from resnet_core.depth_study.twins import LabData, lab_data
from resnet_core.devices import select_device
from resnet_core.networks.layer_tables import (
    ArchitectureRow,
    LayerTable,
    compare_architectures,
    layer_table,
    stage_shapes,
    weightless_model,
)
from resnet_core.training.config import TrainConfig
from resnet_core.training.speed import Speed, estimate_run_seconds, measure_speed
from ui.jobs.lab_job import LabRegistry
from ui.jobs.training_job import DeviceLocks, JobRegistry


@st.cache_resource
def device_locks() -> DeviceLocks:
    return DeviceLocks()


@st.cache_resource
def job_registry() -> JobRegistry:
    return JobRegistry()


@st.cache_resource
def _measured_speeds() -> tuple[dict[tuple, Speed], threading.Lock]:
    return {}, threading.Lock()


def estimated_run_seconds(config: TrainConfig) -> float | None:
    """How long a run of `config` takes on this server, from its network's speed measured here once.

    None while the device trains: timing then would slow that run down and measure the crowd,
    not the network.
    """
    device = select_device(config.device)
    key = (config.arch, config.model_stem, config.residual, config.batch_size, config.precision, str(device))
    speeds, lock = _measured_speeds()
    with lock:
        if key not in speeds:
            if device_locks().for_device(device).busy:
                return None
            with st.spinner(f"Timing {config.arch} on this machine…"):
                speeds[key] = measure_speed(config)
    return estimate_run_seconds(config, speeds[key])


def test_split(dataset: str = "mnist") -> tuple[torch.Tensor, torch.Tensor]:
    """(images (N, 28, 28) uint8, labels (N,)); raises DatasetUnavailable.

    Not cached here: resnet_core.data.datasets already reads each split once per process.
    """
    with st.spinner(f"Reading the test {DATASETS[dataset].items}…"):
        return load_split(dataset, train=False)


@st.cache_resource(show_spinner="Measuring the network…")
def architecture_summary(arch: str, stem: str, depth: int) -> tuple[LayerTable, dict[str, tuple[int, ...]]]:
    model = weightless_model(arch, stem=stem)
    return layer_table(model, depth=depth), stage_shapes(model)


@st.cache_resource(show_spinner="Measuring the networks…")
def architecture_comparison(stem: str | None, family: str) -> list[ArchitectureRow]:
    """The family's nets ("imagenet": resnet18..152; "depth": resnet8..110) built with `stem` (None: their own)."""
    return compare_architectures(stem=stem, family=family)


def missing_data_message(dataset: str = "mnist") -> str | None:
    """Why the dataset cannot be read from disk right now (None when it can); never downloads."""
    try:
        load_split(dataset, train=False, download=False)
    except DatasetUnavailable as err:
        return str(err)
    return None


@st.cache_resource
def lab_registry() -> LabRegistry:
    return LabRegistry()


@st.cache_resource(max_entries=3, show_spinner="Putting the lab's digits on the device…")
def _lab_data(train_subset: int | None, test_subset: int, data_dir: str) -> LabData:
    return lab_data(train_subset=train_subset, test_subset=test_subset, data_dir=data_dir, download=False)


def shared_lab_data(train_subset: int | None, test_subset: int = 1_000) -> LabData:
    """The lab's digits, loaded once per server and data folder for every session; raises DatasetUnavailable.

    Never downloads: opening a page should not start a download nobody asked for.
    """
    return _lab_data(train_subset, test_subset, str(resolve_data_dir()))
