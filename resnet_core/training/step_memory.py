"""How much memory one training step of a configuration needs, known before anything is allocated.

The network runs once on PyTorch's meta device (shapes only, no memory, no arithmetic), and every
layer's output is counted: training keeps them for the backward pass. The weights count four times:
themselves, their gradients and Adam's two moment buffers. For ResNet-152 with the small stem this
gives 62 MB per image, where autograd keeps 40.7 MB (some outputs are views or are not needed) and
a measured step grew by 47.5 MB per image (1.95 GB at batch 16, 2.71 GB at 32, on a CPU): the
estimate errs on the safe side, about 1.5 times what autograd keeps for every net tested.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass

import torch

from resnet_core.training.config import TrainConfig
from resnet_core.training.runner import new_model

SHARE_OF_MEMORY = 0.5  # of the machine's memory one run may take: the server holds everyone's pages too


@dataclass(frozen=True)
class StepMemory:
    per_image: int  # bytes of layer outputs kept for the backward pass, per image
    fixed: int  # bytes of weights, gradients and optimiser state

    def at(self, batch_size: int) -> int:
        return self.fixed + self.per_image * batch_size

    def largest_batch(self, budget: int) -> int:
        return max(0, (budget - self.fixed) // self.per_image)


def step_memory(config: TrainConfig) -> StepMemory:
    """The memory a training step of `config` needs, from one pass on the meta device."""
    return _step_memory(config.arch, config.stem, config.residual)


@functools.lru_cache(maxsize=64)  # ResNet-152's pass takes a second; the answer depends on these alone
def _step_memory(arch: str, stem: str | None, residual: bool) -> StepMemory:
    with torch.device("meta"):
        model = new_model(TrainConfig(arch=arch, stem=stem, residual=residual)).train()
    kept = 0

    def count(module, inputs, output) -> None:
        nonlocal kept
        if isinstance(output, torch.Tensor):
            kept += output.numel() * 4  # float32, as the CPU trains; bf16 on a GPU keeps less

    leaves = [m for m in model.modules() if not list(m.children())]
    hooks = [leaf.register_forward_hook(count) for leaf in leaves]
    try:
        model(torch.empty(2, model.model_kwargs["in_chans"], 28, 28, device="meta"))  # 2: batch norm needs more than 1
    finally:
        for hook in hooks:
            hook.remove()
    weights = sum(p.numel() for p in model.parameters()) * 4
    return StepMemory(per_image=kept // 2, fixed=4 * weights)


def memory_budget(device: torch.device) -> int:
    """Bytes one run may use on `device`: SHARE_OF_MEMORY of the GPU's memory, or of the machine's."""
    if device.type == "cuda":
        total = torch.cuda.get_device_properties(device).total_memory
    else:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return int(total * SHARE_OF_MEMORY)


def too_big_message(config: TrainConfig, device: torch.device, batch_sizes: list[int] | None = None) -> str | None:
    """Why `config` would not fit on `device`, with the batch that would (the largest of `batch_sizes`,
    where only those are offered); None when it fits."""
    need = step_memory(config)
    budget = memory_budget(device)
    if need.at(config.batch_size) <= budget:
        return None
    largest = need.largest_batch(budget)
    if batch_sizes is not None:
        largest = max((size for size in batch_sizes if size <= largest), default=0)
    fix = f"choose a batch of at most {largest}" if largest >= 1 else "choose a smaller network"
    return (
        f"{config.arch} with the {config.model_stem} stem at batch {config.batch_size} needs about "
        f"{need.at(config.batch_size) / 2**30:.1f} GB for one training step, more than the "
        f"{budget / 2**30:.1f} GB a run may use here: {fix}, or the ImageNet stem (smaller maps)."
    )
