"""A 1-D slice of the loss landscape along a filter-normalised random direction (Li et al. 2018).

Moving the weights by alpha * d, with d random but scaled filter by filter to the norms of
the trained filters, shows how the loss changes around the trained weights. Li et al. found
the plain nets' landscapes grow chaotic with depth while residual nets' stay smooth and wide.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import torch
from torch import Tensor, nn


def filter_normalised_direction(model: nn.Module, seed: int = 0) -> dict[str, Tensor]:
    """A random direction in weight space, each filter scaled to the norm of the model's filter.

    Every conv filter (and fc row) of the direction has the norm of the matching trained one,
    so a step of 1 changes every filter by about its own size whatever the layer's scale.
    BatchNorm scales and biases get 0, as in the paper: the slice moves the filters only.
    """
    generator = torch.Generator().manual_seed(seed)
    direction = {}
    for name, param in model.named_parameters():
        if param.dim() <= 1:
            direction[name] = torch.zeros_like(param)
            continue
        d = torch.randn(param.shape, generator=generator).to(param.device, param.dtype)
        d_norm = d.flatten(1).norm(dim=1).clamp(min=1e-12)
        p_norm = param.detach().flatten(1).norm(dim=1)
        direction[name] = d * (p_norm / d_norm).view(-1, *[1] * (param.dim() - 1))
    return direction


# Steps along the direction, -1 to 1 by 0.1: 0 is the trained model.
DEFAULT_ALPHAS = tuple(round(-1 + 0.1 * i, 1) for i in range(21))


@dataclass(frozen=True)
class LossSlice:
    alphas: list[float]  # steps along the direction; 0 is the trained model
    losses: list[float]  # mean cross-entropy on the digits at each step


@torch.inference_mode()
def loss_slice(
    model: nn.Module, images: Tensor, labels: Tensor, alphas: list[float] | None = None, seed: int = 0
) -> LossSlice:
    """Mean loss on normalised `images` at weights + alpha * direction for each alpha (default -1..1 by 0.1).

    Works on an eval-mode copy (BatchNorm with its running statistics), on the model's device;
    the model given is not changed.
    """
    alphas = list(DEFAULT_ALPHAS if alphas is None else alphas)
    net = copy.deepcopy(model).eval()
    device = next(net.parameters()).device
    direction = filter_normalised_direction(net, seed)
    trained = {name: param.detach().clone() for name, param in net.named_parameters()}
    x, y = images.to(device), labels.to(device)
    losses = []
    for alpha in alphas:
        for name, param in net.named_parameters():
            param.copy_(trained[name] + alpha * direction[name])
        losses.append(nn.functional.cross_entropy(net(x), y).item())
    return LossSlice(alphas, losses)
