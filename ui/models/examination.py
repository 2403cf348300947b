"""A model examined once on a fixed sample of test images: its answers, how sure it was, and its features.

Kept per model object for as long as the model lives (ui.models.model_list.once_per_model), so every session
and page that looks at the starter shares one examination, and a dropped model takes its own along.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from resnet_core.data.augment import to_model_input
from resnet_core.data.datasets import DATASETS, load_split, stratified_indices
from resnet_core.inside.embedding import Projection, pca_2d, penultimate_features
from resnet_core.training.trainer import Evaluation, TestResult, summarize_test
from ui.models.model_list import once_per_model

EXAMINED = 2_000  # test images, 200 of each class, the same ones every time: a few seconds on a CPU


@dataclass(frozen=True)
class Examination:
    dataset: str
    positions: torch.Tensor  # (N,) indices into the test split
    images: torch.Tensor  # (N, 28, 28) uint8
    result: TestResult  # in the order of `positions`
    projection: Projection  # 2-D PCA of the penultimate features


def examine(model: torch.nn.Module, dataset: str) -> Examination:
    """The model's examination on `dataset` (made on first call; raises DatasetUnavailable)."""
    return once_per_model(model, ("examination", dataset), lambda: _examined(model, dataset))


def _examined(model: torch.nn.Module, dataset: str) -> Examination:
    images, labels = load_split(dataset, train=False)
    positions = stratified_indices(labels, EXAMINED, seed=0)
    x, y = to_model_input(images[positions]), labels[positions]
    features = penultimate_features(model, x)
    with torch.inference_mode():
        logits = model.fc(features.to(next(model.parameters()).device)).float().cpu()
    evaluation = Evaluation(
        loss=F.cross_entropy(logits, y).item(),
        accuracy=100.0 * (logits.argmax(1) == y).float().mean().item(),
        predictions=logits.argmax(1),
        labels=y,
        probabilities=torch.softmax(logits, dim=1),
    )
    return Examination(
        dataset,
        positions,
        images[positions],
        summarize_test(evaluation, len(DATASETS[dataset].classes)),
        pca_2d(features),
    )
