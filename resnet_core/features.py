"""Feature maps of a ResNet: which layers there are, their activations, and statistics of them.

Hooks live only inside the `capture` context manager, so a failed forward pass
never leaves one behind on a shared model.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import torch
from torch import Tensor, nn

STEM = "stem"
# Hooks on a model shared between app sessions would also see the other sessions'
# forward passes; one capture at a time keeps each store to its own input.
HOOKS_LOCK = threading.Lock()


def feature_layer_names(model: nn.Module) -> list[str]:
    """Names in forward order: "stem", then per stage its blocks and the stage ("layer1.0", "layer1.1", "layer1", ...)."""
    names = [STEM]
    for stage in ("layer1", "layer2", "layer3", "layer4"):
        blocks = getattr(model, stage)
        names += [f"{stage}.{i}" for i in range(len(blocks))] + [stage]
    return names


def _module_for(model: nn.Module, name: str) -> nn.Module:
    # The stem's output is what layer1 sees: after the max-pool (an Identity for the small stem).
    return model.maxpool if name == STEM else model.get_submodule(name)


@contextmanager
def capture(model: nn.Module, names: list[str]) -> Iterator[OrderedDict[str, Tensor]]:
    """Record the outputs of the named layers during forward passes inside the block."""
    store: OrderedDict[str, Tensor] = OrderedDict((n, None) for n in names)
    handles = []

    def hook_for(name: str):
        def hook(_module, _inputs, output):
            # Clone: the next ReLU(inplace=True) may overwrite the tensor we hold.
            store[name] = output.detach().clone()

        return hook

    try:
        for name in names:
            handles.append(_module_for(model, name).register_forward_hook(hook_for(name)))
        yield store
    finally:
        for handle in handles:
            handle.remove()


def feature_maps(model: nn.Module, x: Tensor, names: list[str] | None = None) -> OrderedDict[str, Tensor]:
    """Activations of every layer in `names` (default all) for input x: name -> (N, C, H, W), on x's device."""
    names = names or feature_layer_names(model)
    unknown = sorted(set(names) - set(feature_layer_names(model)))
    if unknown:
        raise ValueError(f"Unknown layer(s) {', '.join(unknown)}: see feature_layer_names(model).")
    was_training = model.training
    model.eval()
    try:
        with HOOKS_LOCK, capture(model, names) as store, torch.inference_mode():
            model(x)
    finally:
        model.train(was_training)
    return store


@dataclass(frozen=True)
class LayerStatistics:
    shape: tuple[int, ...]  # (C, H, W) of one sample
    mean: float  # mean activation
    zero_fraction: float  # share of exactly-zero activations (dead after ReLU)
    channel_order: list[int]  # channels by mean activation, strongest first
    channel_means: list[float]  # mean activation per channel, in channel order 0..C-1


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
    )


def channel_grid(fmap: Tensor, channels: list[int], columns: int = 8, gap: int = 1) -> torch.Tensor:
    """Tile the chosen channels of one sample's (C, H, W) map into one 2-D image, each scaled to [0, 1].

    Each channel is scaled by its own maximum so weak channels stay visible; the
    gaps between tiles are NaN so a heatmap leaves them blank. Row-major order.
    """
    if fmap.dim() == 4:
        fmap = fmap[0]
    if not channels:
        raise ValueError("Choose at least one channel to show.")
    tiles = fmap[channels].float().cpu()
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
