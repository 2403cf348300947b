"""One convolution, taken apart: a filter of a network's first layer over a digit, one output pixel at a
time (the patch under the filter, its weights, their products and the sum), then the whole map, with
stride and max-pooling shown the same way.

Everything is computed from the model's own first convolution on the model's own input (the
normalised digit), and the step-by-step sum is the value torch's conv2d gives at that pixel.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn


@dataclass(frozen=True)
class Filter:
    weights: Tensor  # (k, k): one output channel of the first convolution, on a one-channel input
    stride: int
    padding: int
    channel: int
    channels: int  # how many filters the layer has


@dataclass(frozen=True)
class Step:
    """Output pixel (row, col): the input patch under the filter (zeros where it hangs over the edge),
    the weights, their products, and their sum, which is the output pixel."""

    row: int
    col: int
    top: int  # the patch's top-left corner in the input (negative where the padding is)
    left: int
    patch: Tensor  # (k, k)
    products: Tensor  # (k, k)
    total: float


def first_filter(model: nn.Module, channel: int = 0) -> Filter:
    """Filter `channel` of the model's first convolution (conv1), for a one-channel input."""
    conv = model.conv1
    if conv.in_channels != 1:
        raise ValueError(
            f"The first convolution takes {conv.in_channels} channels; this view shows one-channel digits."
        )
    if not 0 <= channel < conv.out_channels:
        raise ValueError(
            f"Filter {channel} does not exist: the first layer has {conv.out_channels} (0 to {conv.out_channels - 1})."
        )
    return Filter(
        weights=conv.weight.detach()[channel, 0].float().cpu(),
        stride=conv.stride[0],
        padding=conv.padding[0],
        channel=channel,
        channels=conv.out_channels,
    )


def output_size(size: int, kernel: int, stride: int, padding: int) -> int:
    """Pixels along one side of the output of a convolution (or pooling) over `size` input pixels."""
    return (size + 2 * padding - kernel) // stride + 1


def step(image: Tensor, flt: Filter, row: int, col: int, stride: int | None = None) -> Step:
    """The computation of output pixel (row, col) of `flt` over `image` (H, W); stride: the filter's own unless given."""
    stride = flt.stride if stride is None else stride
    k = flt.weights.shape[0]
    padded = F.pad(image.float(), (flt.padding,) * 4)
    top, left = row * stride, col * stride
    patch = padded[top : top + k, left : left + k]
    if patch.shape != (k, k):
        raise ValueError(f"Output pixel ({row}, {col}) is outside the map.")
    products = patch * flt.weights
    return Step(row, col, top - flt.padding, left - flt.padding, patch, products, products.sum().item())


def feature_map(image: Tensor, flt: Filter, stride: int | None = None) -> Tensor:
    """The whole output map of `flt` over `image` (H, W), by torch's conv2d."""
    stride = flt.stride if stride is None else stride
    out = F.conv2d(image.float()[None, None], flt.weights[None, None], stride=stride, padding=flt.padding)
    return out[0, 0]


def max_pool(feature: Tensor, size: int = 2) -> Tensor:
    """Max-pooling: each size×size window of the map becomes its largest value (28×28 -> 14×14 for size 2)."""
    return F.max_pool2d(feature[None, None], size)[0, 0]


def pool_window(feature: Tensor, row: int, col: int, size: int = 2) -> Tensor:
    """The window of `feature` that pooled output pixel (row, col) takes its largest value from."""
    return feature[row * size : (row + 1) * size, col * size : (col + 1) * size]


@torch.no_grad()
def model_input(x: Tensor) -> Tensor:
    """(1, 1, 28, 28) model input -> (28, 28), the numbers the first layer multiplies."""
    return x[0, 0].float().cpu()
