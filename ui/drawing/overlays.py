"""Heat maps laid over the 28×28 digit the model sees, as small RGB pictures for st.image."""

from __future__ import annotations

import numpy as np
import plotly.colors
import torch

# One lookup table, made once: Plotly's Inferno, the scale the charts use for "how much".
_LUT = np.array(
    [plotly.colors.unlabel_rgb(c) for c in plotly.colors.sample_colorscale("Inferno", np.linspace(0, 1, 256))],
    dtype=np.float32,
)
SCALE = 4  # 28 -> 112 px, each model pixel a 4×4 square


def overlay(digit: torch.Tensor, heat: torch.Tensor, signed: bool = False) -> np.ndarray:
    """(28, 28) digit in [0, 1] and (28, 28) heat -> (112, 112, 3) uint8: the heat in colour over the grey digit.

    The heat is scaled by its own largest magnitude. signed: negative values in blue, positive in red
    (Integrated Gradients: pixels for and against the class); otherwise Inferno from black to yellow.
    """
    heat = heat.detach().float()
    peak = float(heat.abs().max())
    scaled = heat / peak if peak > 0 else torch.zeros_like(heat)
    if signed:
        positive, negative = scaled.clamp(min=0).numpy(), (-scaled).clamp(min=0).numpy()
        colour = np.stack([positive, np.zeros_like(positive), negative], axis=-1) * 255
        weight = np.maximum(positive, negative)[..., None]
    else:
        colour = _LUT[(scaled.clamp(0, 1).numpy() * 255).round().astype(int)]
        weight = np.full(scaled.shape + (1,), 0.75, np.float32)
    grey = np.repeat(digit.detach().float().clamp(0, 1).numpy()[..., None] * 255, 3, axis=-1)
    blended = (1 - weight) * grey + weight * colour
    return np.kron(blended, np.ones((SCALE, SCALE, 1))).round().clip(0, 255).astype(np.uint8)
