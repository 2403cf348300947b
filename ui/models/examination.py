"""A model examined once on a fixed sample of test images: its answers, how sure it was, and its features.

Kept per model object for as long as the model lives (ui.caches.once_per), so every session
and page that looks at the starter shares one examination, and a dropped model takes its own along.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from resnet_core.data.augment import to_model_input
from resnet_core.data.datasets import DATASETS, load_split, stratified_indices
from resnet_core.inside.embedding import Projection, pca_2d
from resnet_core.networks.resnet import for_inference
from resnet_core.training.evaluation import TestResult, evaluate, summarize_test, tensor_batches
from ui.caches import once_per

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
    return once_per(model, ("examination", dataset), lambda: _examined(model, dataset))


def _examined(model: torch.nn.Module, dataset: str) -> Examination:
    images, labels = load_split(dataset, train=False)
    positions = stratified_indices(labels, EXAMINED, seed=0)
    x, y = to_model_input(images[positions]), labels[positions]
    # One pass gives the answers and the features; on an eval-mode copy if the model is training.
    evaluation = evaluate(for_inference(model), tensor_batches(x, y), features=True)
    return Examination(
        dataset,
        positions,
        images[positions],
        summarize_test(evaluation, len(DATASETS[dataset].classes)),
        pca_2d(evaluation.features),
    )
