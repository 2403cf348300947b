"""The arithmetic of a training run: a setting, never a measurement, so a run computes the same
way whatever else the machine is doing.

"auto" is bf16 autocast on CUDA, where it feeds the tensor cores, and fp32 everywhere else.
On a CPU bf16 pays only on some chips and some nets (benchmarks.cpu_precision measures it
for yours); "bf16" asks for it anyway, "fp32" never uses it.
"""

from __future__ import annotations

from contextlib import nullcontext

import torch

PRECISIONS = ("auto", "fp32", "bf16")


def check_precision(precision: str) -> str:
    if precision not in PRECISIONS:
        raise ValueError(f"Unknown precision {precision!r}: choose one of {', '.join(PRECISIONS)}.")
    return precision


def uses_bf16(precision: str, device: torch.device) -> bool:
    """Whether a run with this setting computes its forward pass in bf16 autocast on `device`."""
    if check_precision(precision) == "auto":
        return device.type == "cuda"
    return precision == "bf16"


def describe_precision(precision: str, device: torch.device) -> str:
    """One line for a person, e.g. "fp32 (auto: bf16 is used on a CUDA GPU only)"."""
    if precision == "auto":
        return (
            "bf16 (auto: on a CUDA GPU)"
            if uses_bf16(precision, device)
            else "fp32 (auto: bf16 is used on a CUDA GPU only)"
        )
    return f"{check_precision(precision)} (asked for)"


def autocast(device: torch.device, bf16: bool):
    """bf16 autocast on `device` when bf16, else nothing: weights and optimiser stay fp32 either way."""
    return torch.autocast(device.type, dtype=torch.bfloat16) if bf16 else nullcontext()
