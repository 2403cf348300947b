"""Things computed once per server and shared, read-only, by every session."""

from __future__ import annotations

import streamlit as st
import torch

from resnet_core.data import DATASETS, DatasetUnavailable, load_split
from resnet_core.summary import (
    ArchitectureRow,
    LayerTable,
    compare_architectures,
    layer_table,
    stage_shapes,
    weightless_model,
)
from ui.jobs import DeviceLocks, JobRegistry


@st.cache_resource
def device_locks() -> DeviceLocks:
    return DeviceLocks()


@st.cache_resource
def job_registry() -> JobRegistry:
    return JobRegistry()


def test_split(dataset: str = "mnist") -> tuple[torch.Tensor, torch.Tensor]:
    """(images (N, 28, 28) uint8, labels (N,)); raises DatasetUnavailable.

    Not cached here: resnet_core.data already reads each split once per process.
    """
    with st.spinner(f"Reading the test {DATASETS[dataset].items}…"):
        return load_split(dataset, train=False)


@st.cache_resource(show_spinner="Measuring the network…")
def architecture_summary(arch: str, stem: str, depth: int) -> tuple[LayerTable, dict[str, tuple[int, ...]]]:
    model = weightless_model(arch, stem=stem)
    return layer_table(model, depth=depth), stage_shapes(model)


@st.cache_resource(show_spinner="Measuring all five networks…")
def architecture_comparison(stem: str) -> list[ArchitectureRow]:
    return compare_architectures(stem=stem)


def missing_data_message(dataset: str = "mnist") -> str | None:
    """Why the dataset cannot be read from disk right now (None when it can); never downloads."""
    try:
        load_split(dataset, train=False, download=False)
    except DatasetUnavailable as err:
        return str(err)
    return None
