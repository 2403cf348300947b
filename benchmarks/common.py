"""Shared bits of the benchmark scripts: timing, the machine's description, the data directory."""

from __future__ import annotations

import os
import platform
import statistics
import time
from pathlib import Path

import torch

from resnet_core.data.datasets import resolve_data_dir
from resnet_core.devices import processor_name

REPO = Path(__file__).resolve().parents[1]


def data_dir() -> str:
    """Where the datasets are: $RESNET_DATA_DIR, else the library's own default folder."""
    return str(resolve_data_dir())


def machine() -> str:
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
    return (
        f"{processor_name()}, {os.cpu_count()} cores, torch {torch.__version__} ({torch.get_num_threads()} threads), "
        f"{gpu}, Python {platform.python_version()}"
    )


def timings_ms(fn, repeats: int, warmup: int = 5) -> list[float]:
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        out.append(1000 * (time.perf_counter() - start))
    return out


def median_p95(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
