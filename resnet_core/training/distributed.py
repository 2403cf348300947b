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
        on_gpus = device_type == "cuda" and torch.cuda.is_available()
        if on_gpus:
            # "cuda" then means this process's own GPU, wherever the run names the device.
            torch.cuda.set_device(gpu_for(int(os.environ.get("LOCAL_RANK", "0")), torch.cuda.device_count()))
        dist.init_process_group(backend="nccl" if on_gpus else "gloo")
    return rank, world_size


def gpu_for(local_rank: int, visible: int) -> int:
    """The GPU of the process with this local rank: one each, since NCCL refuses two ranks on one GPU."""
    if local_rank >= visible:
        raise ValueError(
            f"torchrun started more processes on this machine than it has GPUs ({visible} visible): "
            f"use --nproc_per_node={visible}, or --device cpu."
        )
    return local_rank


def shutdown() -> None:
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()
