"""Choosing the compute device, with a message a person can act on when the one asked for is absent."""

from __future__ import annotations

import os
import platform

import torch

DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")


def select_device(device: torch.device | str | None = None) -> torch.device:
    """None or "auto": cuda, then mps, then cpu. An explicit device must be present."""
    if isinstance(device, torch.device):
        requested = device
    elif device in (None, "auto"):
        if torch.cuda.is_available():
            return torch.device("cuda")
        if torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    else:
        try:
            requested = torch.device(device)
        except RuntimeError:
            raise ValueError(f"Unknown device {device!r}: use one of {', '.join(DEVICE_CHOICES)}.") from None
    if requested.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("CUDA was asked for but no GPU is visible to PyTorch: use device 'cpu' or 'auto'.")
    if requested.type == "cuda" and requested.index is not None and requested.index >= torch.cuda.device_count():
        raise ValueError(
            f"GPU {requested.index} was asked for but only {torch.cuda.device_count()} are visible: use 'cuda:0'."
        )
    if requested.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError("Apple's MPS was asked for but is not available here: use device 'cpu' or 'auto'.")
    return requested


def describe_device(device: torch.device) -> str:
    """A human name: "NVIDIA H100 80GB HBM3 (cuda:0)" or "CPU (2 threads)"."""
    if device.type == "cuda":
        index = device.index if device.index is not None else torch.cuda.current_device()
        return f"{torch.cuda.get_device_name(index)} (cuda:{index})"
    if device.type == "mps":
        return "Apple GPU (mps)"
    threads = torch.get_num_threads()
    return f"CPU ({threads} thread{'' if threads == 1 else 's'})"


def processor_name() -> str:
    """The CPU's model name ("AMD EPYC 9B14"), else what the platform reports."""
    try:
        with open("/proc/cpuinfo") as f:
            return next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        return platform.processor() or platform.machine()


def machine_name() -> str:
    """Where a figure was measured, as a sentence can say it: the GPU, else the CPU and its cores."""
    if torch.cuda.is_available():
        return f"{torch.cuda.get_device_name(0)}, torch {torch.__version__}"
    return f"{processor_name()}, {os.cpu_count()} cores, torch {torch.__version__}"
