"""Batched data augmentation and normalisation: pure functions on whole batches on any device.

torchvision's way is RandomRotation(10) + RandomAffine(translate=(0.1, 0.1)) per PIL image;
here one affine_grid/grid_sample call does both for every image of a batch at once.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

MNIST_MEAN = 0.1307
MNIST_STD = 0.3081


def random_affine(
    images: Tensor,
    max_degrees: float = 10.0,
    max_translate: float = 0.1,
    generator: torch.Generator | None = None,
    max_scale: float = 0.0,
) -> Tensor:
    """Rotate each image by U(-max_degrees, max_degrees) and shift it by up to max_translate of its size.

    max_scale > 0 also zooms each by a factor in U(1 - max_scale, 1 + max_scale) (the
    default, 0, is the training recipes' augmentation and draws no extra random numbers).
    images: (N, C, H, W) float with background 0; the area moved in is filled with 0.
    """
    n = images.shape[0]
    device = images.device
    angle = (torch.rand(n, device=device, generator=generator) * 2 - 1) * math.radians(max_degrees)
    # affine_grid works in [-1, 1] coordinates: a shift of f of the width is 2f there.
    shift = (torch.rand(n, 2, device=device, generator=generator) * 2 - 1) * (2 * max_translate)
    cos, sin = torch.cos(angle), torch.sin(angle)
    if max_scale > 0:
        # theta maps output positions to input ones, so dividing by the zoom enlarges the digit.
        zoom = 1 + (torch.rand(n, device=device, generator=generator) * 2 - 1) * max_scale
        cos, sin = cos / zoom, sin / zoom
    theta = torch.stack(
        [torch.stack([cos, -sin, shift[:, 0]], dim=1), torch.stack([sin, cos, shift[:, 1]], dim=1)], dim=1
    ).to(images.dtype)
    grid = F.affine_grid(theta, list(images.shape), align_corners=False)
    return F.grid_sample(images, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def to_model_input(images_u8: Tensor, mean: float = MNIST_MEAN, std: float = MNIST_STD) -> Tensor:
    """(N, H, W) or (N, 1, H, W) uint8 pixels -> (N, 1, H, W) float, normalised as the model expects."""
    if images_u8.dim() == 3:
        images_u8 = images_u8.unsqueeze(1)
    return normalize(images_u8.float().div_(255.0), mean, std)


def normalize(images: Tensor, mean: float = MNIST_MEAN, std: float = MNIST_STD) -> Tensor:
    """Pixels in [0, 1] -> zero mean, unit variance over the training set."""
    return (images - mean) / std


def denormalize(images: Tensor, mean: float = MNIST_MEAN, std: float = MNIST_STD) -> Tensor:
    """The inverse of normalize: model input -> pixels in [0, 1], for showing what the model saw."""
    return images * std + mean
