"""Words for the Feature Maps page: what each layer's maps show, and what the stem did to the digit."""

from __future__ import annotations

import math

from resnet_core.inside.feature_maps import STEM
from resnet_core.networks.resnet import STEMS

DEFAULT_CHANNELS = 16  # a 4×4 grid: tiles large enough to read from the back of a room


def grid_columns(count: int) -> int:
    """Tiles per row: a square-ish grid, never more than 8 across (16 -> 4, 32 -> 6, 64 -> 8)."""
    return max(1, min(8, math.ceil(math.sqrt(count))))


def stem_sentence(stem: str) -> str:
    """One sentence on what the model's stem did to a 28×28 digit before the first block."""
    if stem == "imagenet":
        return (
            "This model's stem is ImageNet's: a 7×7 convolution with stride 2 halves the digit to 14×14, "
            "then a max-pool with stride 2 halves it again, so every block sees a 7×7 map (built for "
            "224×224 photos). Choose a model with the small stem, such as Starter ResNet-20, for 28×28 maps."
        )
    if stem == "medium":
        return "This model's stem ends in a max-pool with stride 2: the digit is 14×14 before the first block."
    return (
        f"This model's stem ({STEMS[stem].layers}) keeps the digit's full 28×28 size, "
        "so the first blocks' maps still look like the digit."
    )


def what_to_look_for(layer: str, shape: tuple[int, ...], stages: tuple[str, ...]) -> str:
    """A one-line caption for a layer's maps: what a student should look for in them."""
    channels, height, width = shape
    if height == 1 and width == 1:
        return (
            f"Each bar is one of {channels} channels: how strongly its pattern appears anywhere in the digit. "
            "The classifier decides from these numbers alone."
        )
    if layer == STEM:
        return (
            f"The stem's {channels} filters, each run over the whole digit: look for edges and strokes "
            "at different angles lighting up."
        )
    stage = layer.split(".")[0]
    position = stages.index(stage)
    if position == 0:
        return (
            f"Stage 1, {height}×{width}: strokes and edges still sit where they are in the digit; "
            "each channel picks out different ones."
        )
    if position == len(stages) - 1:
        return (
            f"The last stage, {height}×{width}: each square sees most of the digit. Only a few channels "
            "light up strongly; which ones depends on the digit. The classifier averages each map to one number."
        )
    return (
        f"Stage {position + 1}, {height}×{width}: each square now sees a larger patch of the digit; "
        "channels light up for parts such as loops, corners and line ends."
    )
