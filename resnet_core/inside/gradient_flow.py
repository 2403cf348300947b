"""Gradient flow: how strongly the loss's gradient reaches each block, recorded while a net trains.

In a deep plain net the gradient fades (or blows up) on its way back to the first blocks;
a shortcut hands it back unchanged. GradientFlowRecorder measures that per block, every
`every` steps, for a residual net and its plain twin alike:

with GradientFlowRecorder(model, every=10) as recorder:
    trainer.train(loader, callbacks=[recorder])
flow = recorder.result()   # flow.output_grad_norm[k][b]: step flow.steps[k], block flow.blocks[b]

Its hooks exist only inside the `with`; between recorded steps they return at once.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import torch
from torch import Tensor, nn


@dataclass(frozen=True)
class GradientFlow:
    blocks: list[str]  # block names in forward order: "layer1.0", ...
    steps: list[int]  # the recorded steps (0-based, counted over the whole run)
    weight_grad_norm: list[list[float]]  # [recorded step][block]: L2 norm of dLoss/dW over the block's weights
    output_grad_norm: list[list[float]]  # [recorded step][block]: L2 norm of dLoss/d(block output) over the batch

    def as_tensors(self) -> tuple[Tensor, Tensor]:
        """(weight, output) gradient norms as (steps, blocks) float tensors; NaN where none was recorded."""
        return torch.tensor(self.weight_grad_norm).reshape(-1, len(self.blocks)), torch.tensor(
            self.output_grad_norm
        ).reshape(-1, len(self.blocks))

    def first_to_last(self) -> float | None:
        """Median over recorded steps of dL/d(output) at the first block over that at the last block.

        Near 1: the gradient reaches the first block as strongly as the last. Far below 1 it
        vanished on the way back; far above, it grew. None before anything is recorded.
        """
        _, output = self.as_tensors()
        ratios = output[:, 0] / output[:, -1]
        ratios = ratios[torch.isfinite(ratios)]
        return ratios.median().item() if ratios.numel() else None


class GradientFlowRecorder:
    """A trainer StepCallback that records per-block gradient norms every `every` steps.

    Use it as a context manager: hooks go on the blocks at entry and come off at exit,
    also when training raises. Norms are computed on the model's device and read back
    once per recorded step (one sync every `every` steps).
    """

    def __init__(self, model: nn.Module, every: int = 10) -> None:
        if every < 1:
            raise ValueError(f"every must be at least 1 step, got {every}.")
        self.model = model
        self.every = every
        self.named_blocks: list[tuple[str, nn.Module]] = model.blocks()
        self._handles: list[torch.utils.hooks.RemovableHandle] = []
        self._armed = False
        self._output_norms: dict[str, Tensor] = {}
        self._lock = threading.Lock()  # result() may be read by another thread (a live chart)
        self._steps: list[int] = []
        self._weight: list[list[float]] = []
        self._output: list[list[float]] = []

    def __enter__(self) -> GradientFlowRecorder:
        for name, block in self.named_blocks:
            self._handles.append(block.register_forward_hook(self._on_block_output(name)))
        return self

    def __exit__(self, *exc_info) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles.clear()
        self._armed = False

    @property
    def attached(self) -> bool:
        return bool(self._handles)

    def _on_block_output(self, name: str):
        def hook(module: nn.Module, inputs, output: Tensor) -> None:
            if self._armed and output.requires_grad:
                output.register_hook(lambda grad: self._store_output_norm(name, grad))

        return hook

    def _store_output_norm(self, name: str, grad: Tensor) -> None:
        self._output_norms[name] = torch.linalg.vector_norm(grad.float())

    def before_step(self, step: int) -> None:
        self._armed = self.attached and step % self.every == 0
        self._output_norms = {}

    def after_backward(self, step: int) -> None:
        if not self._armed:
            return
        nan = torch.tensor(float("nan"))
        weight_norms, output_norms = [], []
        for name, block in self.named_blocks:
            grads = [p.grad.float() for p in block.parameters() if p.grad is not None]
            weight_norms.append(torch.linalg.vector_norm(torch.stack([g.norm() for g in grads])) if grads else nan)
            output_norms.append(self._output_norms.get(name, nan))
        device = next(self.model.parameters()).device
        rows = torch.stack(
            [torch.stack([n.to(device) for n in weight_norms]), torch.stack([n.to(device) for n in output_norms])]
        ).tolist()  # the one read-back per recorded step
        with self._lock:
            self._steps.append(step)
            self._weight.append(rows[0])
            self._output.append(rows[1])
        self._armed = False

    def result(self) -> GradientFlow:
        """What has been recorded so far (a copy; safe to call while training goes on)."""
        with self._lock:
            return GradientFlow(
                blocks=[name for name, _ in self.named_blocks],
                steps=list(self._steps),
                weight_grad_norm=[list(row) for row in self._weight],
                output_grad_norm=[list(row) for row in self._output],
            )
