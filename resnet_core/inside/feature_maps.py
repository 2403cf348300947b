"""Feature maps of a ResNet: which layers there are, their activations, and statistics of them.

The maps are the network's own walk over its stem and blocks (ResNet.forward_features): no hooks on
a model other threads may be running, no process-wide lock. A stage's output is its last block's
output, so "layer1" is the map named "layer1.1" in ResNet-18 and has no entry of its own.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from resnet_core.networks.resnet import STEM, for_inference


def feature_layer_names(model: nn.Module) -> list[str]:
    """Names in forward order: "stem", then every block ("layer1.0", "layer1.1", ..., "layer4.1" for ResNet-18)."""
    return [STEM] + [name for name, _ in model.blocks()]


def stage_output_name(model: nn.Module, stage: str) -> str:
    """The block whose output is the stage's output: "layer1" -> "layer1.1" for ResNet-18."""
    return f"{stage}.{len(model.get_submodule(stage)) - 1}"


def feature_maps(model: nn.Module, x: Tensor, names: list[str] | None = None) -> OrderedDict[str, Tensor]:
    """Activations of every layer in `names` (default all) for input x (N, C, H, W): name -> (N, C', H', W').

    x is moved to the model's device; the maps come back on the CPU, in forward order.
    The model is not changed: one in training mode is run as an eval-mode copy, so its
    BatchNorm uses the running statistics, as for a prediction.
    """
    known = feature_layer_names(model)
    wanted = set(names or known)
    unknown = sorted(wanted - set(known))
    if unknown:
        raise ValueError(f"Unknown layer(s) {', '.join(unknown)}: see feature_layer_names(model).")
    model = for_inference(model)
    maps: OrderedDict[str, Tensor] = OrderedDict()
    with torch.inference_mode():
        for name, h in model.forward_features(x.to(next(model.parameters()).device)):
            if name in wanted:
                maps[name] = h.cpu()
            if len(maps) == len(wanted):
                break  # the blocks after the last map asked for are not run
    return maps


@dataclass(frozen=True)
class LayerStatistics:
    shape: tuple[int, ...]  # (C, H, W) of one sample
    mean: float  # mean activation
    zero_fraction: float  # share of exactly-zero activations (dead after ReLU)
    channel_order: list[int]  # channels by mean activation, strongest first
    channel_means: list[float]  # mean activation per channel, in channel order 0..C-1
    low: float  # smallest activation: with `high`, one colour scale for every channel of the layer
    high: float  # largest activation


def layer_statistics(fmap: Tensor) -> LayerStatistics:
    """Statistics of one sample's feature map, shape (C, H, W) or (1, C, H, W)."""
    if fmap.dim() == 4:
        fmap = fmap[0]
    fmap = fmap.float().cpu()
    channel_means = fmap.mean(dim=(1, 2))
    return LayerStatistics(
        shape=tuple(fmap.shape),
        mean=fmap.mean().item(),
        zero_fraction=(fmap == 0).float().mean().item(),
        channel_order=torch.argsort(channel_means, descending=True).tolist(),
        channel_means=channel_means.tolist(),
        low=fmap.min().item(),
        high=fmap.max().item(),
    )


def channel_grid(
    fmap: Tensor, channels: list[int], columns: int = 8, gap: int = 1, per_channel_scale: bool = True
) -> torch.Tensor:
    """Tile the chosen channels of one sample's (C, H, W) map into one 2-D image.

    per_channel_scale: each channel is scaled by its own maximum to [0, 1], so weak channels
    stay visible; False keeps the values as they are (signed), to compare maps on one scale.
    The gaps between tiles are NaN so a heatmap leaves them blank. Row-major order.
    """
    if fmap.dim() == 4:
        fmap = fmap[0]
    if not channels:
        raise ValueError("Choose at least one channel to show.")
    tiles = fmap[channels].float().cpu()
    if per_channel_scale:
        peak = tiles.flatten(1).max(1).values.clamp(min=1e-12)[:, None, None]
        tiles = (tiles.clamp(min=0) / peak).clamp(max=1)
    columns = max(1, min(columns, len(channels)))
    rows = -(-len(channels) // columns)
    h, w = tiles.shape[1:]
    grid = torch.full((rows * (h + gap) - gap, columns * (w + gap) - gap), float("nan"))
    for i, tile in enumerate(tiles):
        r, c = divmod(i, columns)
        grid[r * (h + gap) : r * (h + gap) + h, c * (w + gap) : c * (w + gap) + w] = tile
    return grid
