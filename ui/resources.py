"""Things computed once per server and shared, read-only, by every session (made the ui.caches way)."""

from __future__ import annotations

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
from resnet_core.training.step_memory import too_big_message
from ui.caches import ServerCache, tensor_bytes
from ui.jobs.device_queue import device_queues

LAB_DATA_BYTES = 256 * 2**20  # the lab's digits on the device, for every data size asked for: all 60,000 take ~50 MB

_speeds: ServerCache[Speed] = ServerCache(most=256)
_summaries: ServerCache[tuple[LayerTable, dict[str, tuple[int, ...]]]] = ServerCache(most=64)
_comparisons: ServerCache[list[ArchitectureRow]] = ServerCache(most=16)
_lab_data: ServerCache[LabData] = ServerCache(
    LAB_DATA_BYTES,
    lambda data: tensor_bytes(data.train.images, data.train_images, data.test_images, data.test_uint8),
)


def estimated_run_seconds(config: TrainConfig) -> float | None:
    """How long a run of `config` takes on this server, from its network's speed measured here once.

    None while the device trains: timing then would slow that run down and measure the crowd,
    not the network; and None for settings too big to train here (timing them would take the memory).
    """
    device = select_device(config.device)
    if too_big_message(config, device):
        return None
    key = (config.arch, config.model_stem, config.residual, config.batch_size, config.precision, str(device))
    speed = _speeds.peek(key)
    if speed is None:
        if device_queues.for_device(device).busy:
            return None

        def measure() -> Speed:
            with st.spinner(f"Timing {config.arch} on this machine…"):
                return measure_speed(config)

        speed = _speeds.get(key, measure)
    return estimate_run_seconds(config, speed)


def test_split(dataset: str = "mnist") -> tuple[torch.Tensor, torch.Tensor]:
    """(images (N, 28, 28) uint8, labels (N,)); raises DatasetUnavailable.

    Not cached here: resnet_core.data.datasets already reads each split once per process.
    """
    with st.spinner(f"Reading the test {DATASETS[dataset].items}…"):
        return load_split(dataset, train=False)


def architecture_summary(arch: str, stem: str, depth: int) -> tuple[LayerTable, dict[str, tuple[int, ...]]]:
    """The net's torchinfo layer table at `depth` and its output shape per stage, for one digit."""

    def measure() -> tuple[LayerTable, dict[str, tuple[int, ...]]]:
        with st.spinner("Measuring the network…"):
            model = weightless_model(arch, stem=stem)
            return layer_table(model, depth=depth), stage_shapes(model)

    return _summaries.get((arch, stem, depth), measure)


def architecture_comparison(stem: str | None, family: str) -> list[ArchitectureRow]:
    """The family's nets ("imagenet": resnet18..152; "depth": resnet8..110) built with `stem` (None: their own)."""

    def measure() -> list[ArchitectureRow]:
        with st.spinner("Measuring the networks…"):
            return compare_architectures(stem=stem, family=family)

    return _comparisons.get((stem, family), measure)


def missing_data_message(dataset: str = "mnist") -> str | None:
    """Why the dataset cannot be read from disk right now (None when it can); never downloads."""
    try:
        load_split(dataset, train=False, download=False)
    except DatasetUnavailable as err:
        return str(err)
    return None


def shared_lab_data(train_subset: int | None, test_subset: int = 1_000) -> LabData:
    """The lab's digits, loaded once per server and data folder for every session; raises DatasetUnavailable.

    Never downloads: opening a page should not start a download nobody asked for.
    """
    data_dir = str(resolve_data_dir())

    def load() -> LabData:
        with st.spinner("Putting the lab's digits on the device…"):
            return lab_data(train_subset=train_subset, test_subset=test_subset, data_dir=data_dir, download=False)

    return _lab_data.get((train_subset, test_subset, data_dir), load)
