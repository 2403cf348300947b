"""Teach it on this machine: fine-tuning a copy of a model on 5 drawings each of 3 new symbols.

    python -m benchmarks.finetune
Real Fashion-MNIST test images (trouser, bag, sneaker) stand in for the drawings; 100 more of each are
held back to measure the accuracy. Head only and last stage too, for the starter ResNet-20 and
for ResNet-18 (its weights as built: the timing does not depend on them). Medians of 5 runs.
"""

from __future__ import annotations

import statistics
from pathlib import Path

import torch

from benchmarks.common import machine
from resnet_core.data.augment import to_model_input
from resnet_core.data.datasets import load_split
from resnet_core.files.checkpoints import load_checkpoint
from resnet_core.networks.resnet import build_model
from resnet_core.training.finetune import fine_tune

SYMBOLS = {"trouser": 1, "bag": 8, "sneaker": 7}
RUNS = 5
STARTER = Path(__file__).resolve().parents[1] / "assets" / "starter-resnet20.pt"


def _symbols() -> tuple[tuple[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]:
    images, labels = load_split("fashion-mnist", train=False)
    taught, held = [], []
    for new_label, fashion_label in enumerate(SYMBOLS.values()):
        members = (labels == fashion_label).nonzero().flatten().tolist()
        taught += [(i, new_label) for i in members[:5]]
        held += [(i, new_label) for i in members[5:105]]

    def tensors(pairs):
        return to_model_input(images[[i for i, _ in pairs]]), torch.tensor([label for _, label in pairs])

    return tensors(taught), tensors(held)


def main() -> None:
    (x, y), held = _symbols()
    models = {
        "starter ResNet-20": load_checkpoint(STARTER).model,
        "ResNet-18": build_model("resnet18").eval(),
    }
    print(f"machine: {machine()}")
    print(f"{'model':<20}{'learns':<12}{'median s':>10}{'max s':>8}{'trained':>14}{'held-out before -> after':>28}")
    for name, model in models.items():
        for learns in ("head", "last stage"):
            runs = [fine_tune(model, x, y, tuple(SYMBOLS), learns=learns, held_out=held, seed=s) for s in range(RUNS)]
            seconds = [r.seconds for r in runs]
            last = runs[-1]
            print(
                f"{name:<20}{learns:<12}{statistics.median(seconds):>10.2f}{max(seconds):>8.2f}"
                f"{last.trained_parameters:>14,}{last.accuracy_before:>17.0f}% -> {last.accuracy_after:.0f}%"
            )


if __name__ == "__main__":
    main()
