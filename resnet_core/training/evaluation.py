"""Measuring a model on labelled images: evaluate() over a loader, the test report built from it, and accuracy().

Every measurement of a model in the library goes through evaluate(): the trainer's validation and
test, lesions, the twins' curves, fine-tuning's before and after, and the app's examination.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from resnet_core.devices import select_device
from resnet_core.training.precision import autocast


@dataclass
class Evaluation:
    loss: float
    accuracy: float  # percent
    predictions: Tensor  # (N,) int64, CPU, in loader order
    labels: Tensor  # (N,) int64, CPU
    probabilities: Tensor | None = None  # (N, classes) float32, CPU: the softmax of each image's logits
    features: Tensor | None = None  # (N, D) float32, CPU: the penultimate features fc read, when asked for


@dataclass
class TestResult:
    accuracy: float  # percent
    loss: float
    per_class_accuracy: list[float]  # percent, index = class
    confusion_matrix: list[list[int]]  # [true][predicted]
    misclassified: list[int]  # positions in the loader's order
    predictions: list[int] = field(repr=False)
    labels: list[int] = field(repr=False)
    confidences: list[float] = field(default_factory=list, repr=False)  # probability of the predicted class
    true_class_probabilities: list[float] = field(default_factory=list, repr=False)  # of the right class

    def in_cell(self, true: int, predicted: int) -> list[int]:
        """Positions (in the loader's order) of the images of class `true` that were read as `predicted`."""
        return [i for i, (t, p) in enumerate(zip(self.labels, self.predictions)) if t == true and p == predicted]

    def most_common_mistake(self) -> tuple[int, int] | None:
        """(true, predicted) of the confusion matrix's largest off-diagonal cell; None without mistakes."""
        cells = [(count, t, p) for t, row in enumerate(self.confusion_matrix) for p, count in enumerate(row) if t != p]
        count, true, predicted = max(cells, default=(0, 0, 0))
        return (true, predicted) if count else None

    def hardest(self, count: int) -> list[int]:
        """Positions of the `count` images the model found hardest: lowest probability for their true class."""
        return sorted(range(len(self.labels)), key=self.true_class_probabilities.__getitem__)[:count]


def batches_on(device: torch.device, loader: Iterable, channels_last: bool = False) -> Iterator[tuple[Tensor, Tensor]]:
    """The loader's (x, y) batches moved to `device` (x channels-last if asked), as the trainer and evaluate() run them."""
    for x, y in loader:
        x = x.to(device, non_blocking=True)
        if channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        yield x, y.to(device, non_blocking=True)


def tensor_batches(images: Tensor, labels: Tensor, batch_size: int = 500) -> list[tuple[Tensor, Tensor]]:
    """Prepared (x, y) tensors cut into batches, to evaluate() them as a loader's batches."""
    return [(images[i : i + batch_size], labels[i : i + batch_size]) for i in range(0, labels.numel(), batch_size)]


def _logits_and_features(model: nn.Module, x: Tensor) -> tuple[Tensor, Tensor]:
    # One pass for both: the head in its two steps, pooling then fc.
    features = model.forward_head(model.final_map(x), pre_logits=True)
    return model.fc(features), features


@torch.no_grad()
def evaluate(
    model: nn.Module,
    loader: Iterable,
    device: torch.device | str | None = None,
    bf16: bool = False,
    channels_last: bool = False,
    features: bool = False,
) -> Evaluation:
    """Loss and accuracy of `model` over every (x (B, C, 28, 28), y (B,)) batch of `loader`, in eval mode.

    The model is switched to eval mode and back afterwards, so it must not be in use elsewhere
    meanwhile: measure a shared model through networks.resnet.for_inference(model). Batches go to
    `device` (default: the model's); predictions, labels and probabilities come back on the CPU.
    bf16: compute in bf16 autocast, as a trainer that trains in it does. features: also keep the
    penultimate features, (N, D), from the same pass (a ResNet's forward_features and forward_head).
    """
    device = select_device(device) if device is not None else next(model.parameters()).device
    was_training = model.training
    model.eval()
    loss_sum = torch.zeros((), device=device)
    predictions, labels, probabilities, kept = [], [], [], []
    try:
        for x, y in batches_on(device, loader, channels_last):
            with autocast(device, bf16):
                if features:
                    logits, pooled = _logits_and_features(model, x)
                    kept.append(pooled.float().cpu())
                else:
                    logits = model(x)
            loss_sum += F.cross_entropy(logits.float(), y, reduction="sum")
            predictions.append(logits.argmax(1))
            probabilities.append(torch.softmax(logits.float(), dim=1))
            labels.append(y)
    finally:
        model.train(was_training)
    if not labels:
        raise ValueError("The evaluation loader yielded no batches.")
    predictions_t, labels_t = torch.cat(predictions).cpu(), torch.cat(labels).cpu()
    n = labels_t.numel()
    return Evaluation(
        loss=loss_sum.item() / n,
        accuracy=100.0 * (predictions_t == labels_t).sum().item() / n,
        predictions=predictions_t,
        labels=labels_t,
        probabilities=torch.cat(probabilities).cpu(),
        features=torch.cat(kept) if features else None,
    )


def accuracy(model: nn.Module, images: Tensor, labels: Tensor, batch_size: int = 500) -> float:
    """Percent of `images` (N, C, 28, 28), normalised, that `model` labels right (run by evaluate())."""
    return evaluate(model, tensor_batches(images, labels, batch_size)).accuracy


def summarize_test(evaluation: Evaluation, num_classes: int = 10) -> TestResult:
    """Per-class accuracy, confusion matrix and misclassified positions from an evaluation."""
    preds, labels = evaluation.predictions, evaluation.labels
    confusion = torch.zeros(num_classes, num_classes, dtype=torch.long)
    confusion.index_put_((labels, preds), torch.ones_like(labels), accumulate=True)
    per_class_total = confusion.sum(1).clamp(min=1)
    per_class = (100.0 * confusion.diag() / per_class_total).tolist()
    probabilities = evaluation.probabilities
    return TestResult(
        accuracy=evaluation.accuracy,
        loss=evaluation.loss,
        per_class_accuracy=per_class,
        confusion_matrix=confusion.tolist(),
        misclassified=(preds != labels).nonzero().flatten().tolist(),
        predictions=preds.tolist(),
        labels=labels.tolist(),
        confidences=probabilities.max(1).values.tolist() if probabilities is not None else [],
        true_class_probabilities=probabilities.gather(1, labels[:, None])[:, 0].tolist()
        if probabilities is not None
        else [],
    )
