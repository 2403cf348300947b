"""Lesions: take blocks out of a trained net and see what it still gets right (Veit et al. 2016).

Removing a block from a residual net leaves its shortcut: the block then passes its input
on (or its projection, where the shape changes). A plain net has no shortcut: a removed
block becomes the identity where the block keeps its input's shape, and cannot be removed
where it does not. Veit et al. found residual nets lose little per removed block while plain
nets collapse, as if a residual net were many shallower paths working together.
"""

from __future__ import annotations

import copy
from collections.abc import Collection, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from resnet_core.training.evaluation import accuracy


class LesionRefused(ValueError):
    """A block that cannot be removed: a plain block that changes the shape of what it passes on."""


class ShortcutOnly(nn.Module):
    """A residual block with its residual branch removed: relu(shortcut(x))."""

    def __init__(self, block: nn.Module) -> None:
        super().__init__()
        self.block = block

    def forward(self, x: Tensor) -> Tensor:
        # The input is already a ReLU's output, so with an identity shortcut this is x itself.
        return torch.relu(self.block.shortcut(x))


def _out_channels(block: nn.Module) -> int:
    return (block.bn3 if hasattr(block, "bn3") else block.bn2).num_features


def _keeps_shape(block: nn.Module) -> bool:
    strides = [m.stride for name, m in block.named_modules() if isinstance(m, nn.Conv2d) and "downsample" not in name]
    return all(s == (1, 1) for s in strides) and block.conv1.in_channels == _out_channels(block)


def _replacement(name: str, block: nn.Module) -> nn.Module:
    if block.residual:
        return ShortcutOnly(block)
    if _keeps_shape(block):
        return nn.Identity()
    raise LesionRefused(
        f"{name} cannot be removed from a plain net: it changes the shape of what it passes on "
        f"({block.conv1.in_channels} to {_out_channels(block)} channels, or a smaller map), and a plain "
        "net has no shortcut to carry its input past it. Choose a block that keeps the shape."
    )


def removable_blocks(model: nn.Module) -> list[str]:
    """The blocks lesioned() can remove: all of a residual net's; a plain net's that keep the shape."""
    return [name for name, block in model.blocks() if block.residual or _keeps_shape(block)]


@contextmanager
def lesioned(model: nn.Module, blocks: Iterable[str]) -> Iterator[nn.Module]:
    """Inside the `with`, `model` runs without the named blocks ("layer2.1", ...); afterwards it is restored.

    The model is changed in place (and restored even when the body raises), so do not use
    it from another thread meanwhile: lesion a copy of a shared model. Unknown names raise
    ValueError and a plain block that changes the shape raises LesionRefused, before
    anything is changed.
    """
    named = dict(model.blocks())
    names = list(dict.fromkeys(blocks))
    unknown = [n for n in names if n not in named]
    if unknown:
        raise ValueError(f"Unknown block(s) {', '.join(unknown)}: choose from {', '.join(named)}.")
    replacements = {name: _replacement(name, named[name]) for name in names}
    removed: dict[str, nn.Module] = {}
    try:
        for name, replacement in replacements.items():
            stage, index = name.split(".")
            model.get_submodule(stage)[int(index)] = replacement
            removed[name] = named[name]
        yield model
    finally:
        for name, block in removed.items():
            stage, index = name.split(".")
            model.get_submodule(stage)[int(index)] = block


@dataclass(frozen=True)
class LesionResult:
    removed: tuple[str, ...]  # the blocks taken out; () for the intact net
    accuracy: float | None  # percent; None when refused
    refused: str | None = None  # why the blocks could not be removed


def lesion_study(
    model: nn.Module, images: Tensor, labels: Tensor, groups: Iterable[Iterable[str]] | None = None
) -> list[LesionResult]:
    """Accuracy on `images` of the intact net, then with each group of blocks removed.

    groups=None removes one block at a time, every block in turn. Works on an eval-mode
    copy, so the model given is never changed (others may be using it).
    """
    net = copy.deepcopy(model).eval()
    groups = [(name,) for name, _ in net.blocks()] if groups is None else [tuple(g) for g in groups]
    results = [LesionResult((), accuracy(net, images, labels))]
    for group in groups:
        try:
            with lesioned(net, group):
                results.append(LesionResult(group, accuracy(net, images, labels)))
        except LesionRefused as refusal:
            results.append(LesionResult(group, None, str(refusal)))
    return results


def mean_accuracy_drop(results: list[LesionResult], among: Collection[tuple[str, ...]] | None = None) -> float | None:
    """Mean points of accuracy lost per removal in a lesion_study's results (refused removals left out),
    over the removals `among` names when given: comparing two nets fairly means the removals both could make."""
    intact = results[0].accuracy
    drops = [
        intact - r.accuracy for r in results[1:] if r.accuracy is not None and (among is None or r.removed in among)
    ]
    return sum(drops) / len(drops) if drops else None
