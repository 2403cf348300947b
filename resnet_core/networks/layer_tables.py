"""Layer tables from torchinfo and a side-by-side comparison of the registered architectures.

Every figure here is measured on the model itself (a forward pass through
torchinfo), never copied from a paper: ImageNet figures do not hold for 28x28 digits.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import torch
from torch import nn

from resnet_core.networks.resnet import ARCHITECTURES, build_model

INPUT_SIZE = (1, 1, 28, 28)


@dataclass(frozen=True)
class LayerRow:
    name: str  # dotted module path, e.g. "layer1.0.conv1"
    type: str  # module class, e.g. "Conv2d"
    depth: int  # nesting level, 1 = a direct child of the model
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    parameters: int
    mult_adds: int  # multiply-accumulates for one forward pass of input_size
    trainable: str  # "yes", "no", "partly", or "" for layers without parameters


@dataclass(frozen=True)
class LayerTable:
    rows: list[LayerRow]
    total_parameters: int
    trainable_parameters: int
    total_mult_adds: int
    input_size: tuple[int, ...]
    output_shape: tuple[int, ...]


def _dotted_name(layer) -> str:
    parts = []
    while layer.parent_info is not None:
        parts.append(layer.var_name)
        layer = layer.parent_info
    return ".".join(reversed(parts))


def _torchinfo():
    # Imported here, not at the top, so that training and inference work where torchinfo is not
    # installed: only layer tables need it, and torch and torchvision are enough for the rest.
    try:
        import torchinfo
    except ImportError as error:
        raise ModuleNotFoundError(
            "Layer tables need torchinfo, which is not installed here: pip install 'torchinfo>=1.8,<1.9' "
            "(or pip install -r requirements.txt)."
        ) from error
    return torchinfo


_ALL_LEVELS = 32  # deeper than any registered net nests
_TRAINABLE = {"True": "yes", "False": "no", "Partial": "partly", "--": ""}


def layer_table(model: nn.Module, depth: int = 3, input_size: tuple[int, ...] = INPUT_SIZE) -> LayerTable:
    """torchinfo's per-layer table down to `depth`, for one forward pass of `input_size`.

    torchinfo hooks every layer and switches the net to eval mode, so it runs on a copy
    (on the model's own device): a model that other threads use, or that is training,
    is never touched. A weightless_model() copies for free.
    """
    if depth < 1:
        raise ValueError(f"depth must be at least 1, got {depth}.")
    torchinfo = _torchinfo()
    device = next(model.parameters()).device
    # Full depth, then cut: torchinfo's multiply-adds for a container shown
    # at the cut-off depth are not the sum of its layers, so we add them up.
    stats = torchinfo.summary(
        copy.deepcopy(model), input_size=input_size, depth=_ALL_LEVELS, device=device, mode="eval", verbose=0
    )
    leaf_macs = [(_dotted_name(layer), layer.macs) for layer in stats.summary_list if layer.is_leaf_layer]
    rows = []
    for layer in stats.summary_list:
        if not 1 <= layer.depth <= depth:
            continue
        name = _dotted_name(layer)
        rows.append(
            LayerRow(
                name=name,
                type=layer.class_name,
                depth=layer.depth,
                input_shape=tuple(layer.input_size),
                output_shape=tuple(layer.output_size),
                parameters=layer.num_params,
                mult_adds=sum(m for leaf, m in leaf_macs if leaf == name or leaf.startswith(name + ".")),
                trainable=_TRAINABLE.get(str(layer.trainable), str(layer.trainable)),
            )
        )
    return LayerTable(
        rows=rows,
        total_parameters=stats.total_params,
        trainable_parameters=stats.trainable_params,
        total_mult_adds=stats.total_mult_adds,
        input_size=tuple(input_size),
        output_shape=tuple(stats.summary_list[0].output_size),
    )


def weighted_depth(model: nn.Module) -> int:
    """Layers counted as the paper counts them: convs on the main path plus the classifier (18 for ResNet-18)."""
    convs = sum(1 for name, m in model.named_modules() if isinstance(m, nn.Conv2d) and "downsample" not in name)
    return convs + sum(1 for m in model.modules() if isinstance(m, nn.Linear))


def stage_shapes(model: nn.Module, input_size: tuple[int, ...] = INPUT_SIZE) -> dict[str, tuple[int, ...]]:
    """Output shape of the stem and of each stage for one input, e.g. {"stem": (1, 64, 7, 7), ...}."""
    table = layer_table(model, depth=1, input_size=input_size)
    by_name = {row.name: row.output_shape for row in table.rows}
    return {"stem": by_name["maxpool"], **{s: by_name[s] for s in model.stages}, "fc": by_name["fc"]}


@dataclass(frozen=True)
class ArchitectureRow:
    name: str
    description: str
    block: str
    blocks_per_stage: tuple[int, ...]
    depth: int
    parameters: int
    mult_adds: int
    size_mb: float  # float32 weights and buffers, in MB (10^6 bytes)


def model_size_mb(model: nn.Module) -> float:
    tensors = list(model.parameters()) + list(model.buffers())
    return sum(t.numel() * t.element_size() for t in tensors) / 1e6


def weightless_model(arch: str, stem: str | None = None, in_chans: int = 1, residual: bool = True) -> nn.Module:
    """The architecture built on PyTorch's meta device: every shape, no weights.

    Enough for layer tables and counts, without allocating or randomly initialising the
    weights (ResNet-152's are 233 MB); it cannot compute real outputs.
    """
    with torch.device("meta"):
        return build_model(arch, stem=stem, in_chans=in_chans, residual=residual)


def compare_architectures(
    stem: str | None = None, input_size: tuple[int, ...] = INPUT_SIZE, family: str | None = None
) -> list[ArchitectureRow]:
    """One row per registered architecture (of `family`, if given), measured on a weightless model.

    stem=None builds each with its own stem (imagenet for resnet18..152, small for resnet8..110).
    """
    rows = []
    for name, entry in ARCHITECTURES.items():
        if family is not None and entry.family != family:
            continue
        model = weightless_model(name, stem=stem, in_chans=input_size[1])
        table = layer_table(model, depth=1, input_size=input_size)
        rows.append(
            ArchitectureRow(
                name=name,
                description=entry.description,
                block=type(model.layer1[0]).__name__,
                blocks_per_stage=tuple(len(getattr(model, s)) for s in model.stages),
                depth=weighted_depth(model),
                parameters=table.total_parameters,
                mult_adds=table.total_mult_adds,
                size_mb=model_size_mb(model),
            )
        )
    return rows


def format_count(n: float) -> str:
    """11175370 -> "11.18M", 33020554 -> "33.02M", 4096 -> "4.1K"."""
    for unit, scale in (("G", 1e9), ("M", 1e6), ("K", 1e3)):
        if abs(n) >= scale:
            return f"{n / scale:.2f}{unit}" if unit != "K" else f"{n / scale:.1f}{unit}"
    return str(int(n))
