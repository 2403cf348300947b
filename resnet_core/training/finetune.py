"""Teach a trained ResNet new classes from a handful of drawings: transfer learning in seconds.

A copy of the model gets a new classifier head for the new classes; everything before it (or
everything before the last stage) is frozen and keeps what it learned from MNIST. The frozen
part runs once per (augmented) example, so each training step only runs what learns: the head
alone takes a fraction of a second on a CPU. The model given is never changed.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from resnet_core.data.augment import random_affine
from resnet_core.networks.resnet import STEM, count_parameters
from resnet_core.training.evaluation import accuracy

AUGMENTED_COPIES = 12  # each drawing shifted, turned and zoomed a little: 5 drawings become 65 examples
STEPS = 150
LEARNING_RATE = 3e-3
LEARNS = {
    "head": "only the new head learns",
    "last stage": "the last stage and the new head learn",
}


@dataclass(frozen=True)
class FineTuned:
    model: nn.Module  # the copy, in eval mode, answering with `classes`
    classes: tuple[str, ...]
    learns: str  # a key of LEARNS
    trained_parameters: int
    total_parameters: int
    accuracy_before: float | None  # percent on the held-out drawings: the copy with its untrained head
    accuracy_after: float | None  # percent on the held-out drawings, after
    held_out: int  # how many drawings those percentages are of
    examples: int  # drawings it learned from (before the moved copies)
    seconds: float


def _augmented(images: Tensor, labels: Tensor, copies: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
    """The drawings themselves plus `copies` randomly moved versions of each (background 0 before normalising)."""
    background = images.min()
    moved = [images] + [
        random_affine(images - background, max_degrees=12, max_translate=0.08, max_scale=0.1, generator=generator)
        + background
        for _ in range(copies)
    ]
    return torch.cat(moved), labels.repeat(copies + 1)


def fine_tune(
    model: nn.Module,
    images: Tensor,
    labels: Tensor,
    classes: tuple[str, ...],
    learns: str = "head",
    held_out: tuple[Tensor, Tensor] | None = None,
    steps: int = STEPS,
    seed: int = 0,
) -> FineTuned:
    """A copy of `model` that tells `classes` apart, trained on `images` (N, C, 28, 28), normalised as the
    model expects, with `labels` (N,) in 0..len(classes)-1.

    learns: "head" (only a new fc layer) or "last stage" (the last stage too). held_out: other
    drawings (images, labels) to measure the accuracy before and after on.
    """
    if learns not in LEARNS:
        raise ValueError(f"learns must be one of {', '.join(LEARNS)}, got {learns!r}.")
    if len(classes) < 2:
        raise ValueError("Teach at least two classes: with one there is nothing to tell apart.")
    missing = sorted(set(range(len(classes))) - set(labels.tolist()))
    if missing:
        raise ValueError(f"Draw at least one example of {', '.join(classes[c] for c in missing)}.")
    started = time.perf_counter()
    generator = torch.Generator().manual_seed(seed)
    device = next(model.parameters()).device
    student = copy.deepcopy(model).eval()  # eval throughout: a few drawings would wreck BatchNorm's statistics
    student.fc = nn.Linear(student.fc.in_features, len(classes)).to(device)
    student.model_kwargs = {**student.model_kwargs, "num_classes": len(classes)}
    for parameter in student.parameters():
        parameter.requires_grad_(False)
    last_stage = student.stages[-1]
    last = student.get_submodule(last_stage)
    learning = [*student.fc.parameters(), *(last.parameters() if learns == "last stage" else [])]
    for parameter in learning:
        parameter.requires_grad_(True)

    x, y = _augmented(images.float().cpu(), labels.cpu(), AUGMENTED_COPIES, generator)
    x, y = x.to(device), y.to(device)
    # The frozen part, once: the walk up to the last stage's input, or to its output.
    frozen_until = [STEM, *student.stages][-2] if learns == "last stage" else last_stage
    with torch.inference_mode():
        h = next(fmap for name, fmap in student.forward_features(x, stages=True) if name == frozen_until)
    h = h.clone()  # an inference tensor cannot enter autograd; every step starts from it

    def logits(batch: Tensor) -> Tensor:
        return student.forward_head(last(batch) if learns == "last stage" else batch)

    held = (held_out[0].to(device), held_out[1].to(device)) if held_out is not None and len(held_out[1]) else None
    before = accuracy(student, *held) if held else None
    optimizer = torch.optim.Adam(learning, lr=LEARNING_RATE, weight_decay=1e-4)
    batch = min(64, len(y))
    for _ in range(steps):
        chosen = torch.randperm(len(y), generator=generator)[:batch].to(device)
        loss = F.cross_entropy(logits(h[chosen]), y[chosen])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    for parameter in student.parameters():
        parameter.requires_grad_(False)
    return FineTuned(
        model=student,
        classes=tuple(classes),
        learns=learns,
        trained_parameters=sum(p.numel() for p in learning),
        total_parameters=count_parameters(student),
        accuracy_before=before,
        accuracy_after=accuracy(student, *held) if held else None,
        held_out=len(held[1]) if held else 0,
        examples=len(labels),
        seconds=time.perf_counter() - started,
    )
