"""Which change to the fast recipe lifts ResNet-18's final test accuracy: one variant per run.

    RESNET_DATA_DIR=path/to/data python -m benchmarks.accuracy_levers --variant fast --seed 0
    python -m benchmarks.accuracy_levers --smoke          # tiny subsets, checks the script only

Each run trains ResNet-18 (imagenet stem) for --epochs epochs of OneCycle on the full
60k and tests on all 10,000 digits after every epoch. Every run also keeps an
exponential moving average of the weights (and BatchNorm statistics) and tests that
too, so weight averaging is measured beside each variant at no extra run.
Variants:
  fast   the fast recipe: Adam 3e-3, wd 1e-4, label smoothing 0.1, rotation 10 deg, shift 10%
  scale  fast, plus a random zoom of +-10% per digit
  sgd    fast, with SGD (Nesterov momentum 0.9) at 0.1 and wd 5e-4 instead of Adam
"""

from __future__ import annotations

import argparse
import functools
import time

import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from benchmarks.common import data_dir, machine
from resnet_core.data.augment import random_affine
from resnet_core.data.datasets import MNISTDataLoader
from resnet_core.networks.resnet import build_model
from resnet_core.training.config import RECIPES
from resnet_core.training.evaluation import evaluate

VARIANTS = ("fast", "scale", "sgd")


def make_optimizer(variant: str, model: nn.Module) -> tuple[torch.optim.Optimizer, float]:
    if variant == "sgd":
        lr = 0.1
        return torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, nesterov=True, weight_decay=5e-4), lr
    fast = RECIPES["fast"]
    return torch.optim.Adam(model.parameters(), lr=fast.lr, weight_decay=fast.weight_decay), fast.lr


def run(variant: str, seed: int, epochs: int, ema_decay: float, subsets: dict) -> None:
    torch.manual_seed(seed)
    loader = MNISTDataLoader(
        batch_size=RECIPES["fast"].batch_size, data_dir=data_dir(), device="cpu", seed=seed, **subsets
    )
    train, test = loader.get_data_loaders()
    if variant == "scale":
        train.augmentation = functools.partial(random_affine, max_scale=0.1)
    model = build_model("resnet18")
    ema = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(ema_decay), use_buffers=True)
    optimizer, lr = make_optimizer(variant, model)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=epochs * len(train))
    criterion = nn.CrossEntropyLoss(label_smoothing=RECIPES["fast"].label_smoothing)
    started = time.perf_counter()
    for epoch in range(1, epochs + 1):
        model.train()
        for x, y in train:
            optimizer.zero_grad(set_to_none=True)
            criterion(model(x), y).backward()
            optimizer.step()
            schedule.step()
            ema.update_parameters(model)
        accuracy = evaluate(model, test, "cpu").accuracy
        ema_accuracy = evaluate(ema.module, test, "cpu").accuracy
        seconds = time.perf_counter() - started
        print(
            f"{variant}, seed {seed}, epoch {epoch}: test {accuracy:.2f}%  averaged weights {ema_accuracy:.2f}%  ({seconds:.0f} s)",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--variant", choices=VARIANTS, default="fast")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--ema-decay", type=float, default=0.999, help="per step")
    parser.add_argument("--smoke", action="store_true", help="tiny subsets, one epoch: checks the script only")
    args = parser.parse_args()
    print(machine())
    subsets = {"train_subset": 512, "test_subset": 256} if args.smoke else {}
    run(args.variant, args.seed, 1 if args.smoke else args.epochs, args.ema_decay, subsets)


if __name__ == "__main__":
    main()
