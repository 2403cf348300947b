"""Where a model puts each image: its penultimate-layer features (what the classifier reads), projected
to two dimensions by PCA, so digits the model finds alike land close together."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from resnet_core.networks.resnet import for_inference


def penultimate_features(model: nn.Module, x: Tensor, batch_size: int = 500) -> Tensor:
    """(N, C, 28, 28) images -> (N, D) float CPU features: the pooled output of the last stage, fc's input."""
    model = for_inference(model)
    device = next(model.parameters()).device
    with torch.inference_mode():
        features = [model.forward_head(model.final_map(b.to(device)), pre_logits=True) for b in x.split(batch_size)]
    return torch.cat(features).float().cpu()


@dataclass(frozen=True)
class Projection:
    """A 2-D PCA fitted to a set of features; `points` are that set's coordinates."""

    mean: Tensor  # (D,)
    axes: Tensor  # (D, 2): the two directions of largest variance
    explained: tuple[float, float]  # share of the variance along each axis
    points: Tensor  # (N, 2)

    def place(self, features: Tensor) -> Tensor:
        """(M, D) other features -> (M, 2) coordinates on the same axes (the current drawing, say)."""
        return (features.float() - self.mean) @ self.axes


def pca_2d(features: Tensor) -> Projection:
    """The two principal components of (N, D) features, by SVD of the centred data (N >= 3)."""
    if features.shape[0] < 3:
        raise ValueError(f"PCA needs at least 3 points, got {features.shape[0]}.")
    features = features.float()
    mean = features.mean(0)
    _, singular, right = torch.linalg.svd(features - mean, full_matrices=False)
    # SVD's signs are arbitrary: make each axis point towards its largest coordinate, so a rerun draws the same picture.
    axes = right[:2].T
    axes = axes * torch.sign(axes.gather(0, axes.abs().argmax(0, keepdim=True)))
    variance = singular**2
    explained = tuple((variance[:2] / variance.sum()).tolist())
    return Projection(mean, axes, explained, (features - mean) @ axes)
