"""Inside a block: what the shortcut carries, what the residual branch F(x) adds, and their sum.

A residual block outputs relu(F(x) + x). When ||F(x)|| / ||x|| is small the block is close
to the identity: it nudges its input rather than replacing it, which is what lets a deep
residual net start out (and stay) well behaved. A plain block outputs relu(F(x)) alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from resnet_core.networks.resnet import for_inference


@dataclass(frozen=True)
class BlockAnatomy:
    name: str  # "layer1.0", ...
    input: Tensor  # (C, H, W): x, what the block receives
    shortcut: Tensor  # (C', H', W'): what the skip connection carries: x, or its projection where the shape changes
    branch: Tensor  # (C', H', W'): F(x), the convolutions' output before the addition
    output: Tensor  # (C', H', W'): relu(F(x) + shortcut) in a residual net, relu(F(x)) in a plain one
    ratio: float  # ||F(x)|| / ||shortcut||: near 0, the block is almost the identity
    residual: bool  # whether the shortcut is added (False in a plain twin)


def block_anatomy(model: nn.Module, x: Tensor) -> list[BlockAnatomy]:
    """The anatomy of every block for one input x, (1, C, H, W) or (C, H, W); CPU tensors, forward order.

    Runs on the model's device, in eval mode (a model in training mode is run as a copy).
    """
    if x.dim() == 3:
        x = x.unsqueeze(0)
    if x.dim() != 4 or x.shape[0] != 1:
        raise ValueError(f"block_anatomy takes one input, (1, C, H, W) or (C, H, W); got shape {tuple(x.shape)}.")
    model = for_inference(model)
    parts = []
    with torch.inference_mode():
        # The walk gives each block's input (the map before it) and output. The branch and the shortcut
        # are run once more from that input: a block's second pass, for one image, is cheap.
        walk = model.forward_features(x.to(next(model.parameters()).device))
        _, h = next(walk)
        for name, out in walk:
            block = model.get_submodule(name)
            branch, shortcut = block.residual_branch(h), block.shortcut(h)
            ratio = torch.linalg.vector_norm(branch) / torch.linalg.vector_norm(shortcut).clamp(min=1e-12)
            parts.append(
                BlockAnatomy(
                    name, h[0].cpu(), shortcut[0].cpu(), branch[0].cpu(), out[0].cpu(), ratio.item(), block.residual
                )
            )
            h = out
    return parts
