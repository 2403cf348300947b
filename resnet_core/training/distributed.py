"""Process-group setup for `torchrun --nproc_per_node=N -m resnet_core train`: nccl on GPUs, gloo on CPUs."""

from __future__ import annotations

import os

import torch
import torch.distributed as dist


def init_from_env(device_type: str) -> tuple[int, int]:
    """(rank, world_size) from torchrun's environment; a process group is started when world_size > 1."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    if world_size > 1 and not dist.is_initialized():
        backend = "nccl" if device_type == "cuda" and torch.cuda.is_available() else "gloo"
        dist.init_process_group(backend=backend)
    return rank, world_size


def shutdown() -> None:
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()
