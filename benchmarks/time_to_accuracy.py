"""Time to 99.0% test accuracy on the full 60k/10k, both sides in one run.

    RESNET_DATA_DIR=path/to/data python -m benchmarks.time_to_accuracy
Baseline: the classic recipe (batch 128, Adam 1e-3, wd 1e-4, StepLR(7, 0.1)) on a plain
DataLoader pipeline (benchmarks.pipeline's, num_workers=2, torchvision resnet18).
Ours: `--recipe fast` on resnet_core. Each is evaluated on all 10,000 test digits after
every epoch; the clock counts training only and stops at the first epoch >= 99.0%.
"""

from __future__ import annotations

import threading
import time

import torch
import torchvision
from torch import nn
from torch.utils.data import DataLoader
from torchvision import transforms

from benchmarks.common import data_dir, machine
from benchmarks.pipeline import BASELINE_TRANSFORM, baseline_model
from resnet_core.training.config import recipe
from resnet_core.training.evaluation import evaluate
from resnet_core.training.runner import make_loaders, run_training

TARGET = 99.0


def baseline_time_to_target(max_epochs: int = 10) -> tuple[float | None, list[float]]:
    torch.manual_seed(0)
    train = torchvision.datasets.MNIST(data_dir(), train=True, transform=BASELINE_TRANSFORM)
    plain = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])
    test = DataLoader(torchvision.datasets.MNIST(data_dir(), train=False, transform=plain), batch_size=1000)
    loader = DataLoader(train, batch_size=128, shuffle=True, num_workers=2, persistent_workers=True)
    model = baseline_model()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-4)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=7, gamma=0.1)
    criterion = nn.CrossEntropyLoss()
    trained, accuracies = 0.0, []
    for _ in range(max_epochs):
        model.train()
        start = time.perf_counter()
        for x, y in loader:
            optimizer.zero_grad(set_to_none=True)
            criterion(model(x), y).backward()
            optimizer.step()
        scheduler.step()
        trained += time.perf_counter() - start
        accuracies.append(evaluate(model, test, "cpu").accuracy)
        print(f"  baseline epoch {len(accuracies)}: {accuracies[-1]:.2f}% after {trained:.0f} s", flush=True)
        if accuracies[-1] >= TARGET:
            return trained, accuracies
    return None, accuracies


def ours_time_to_target() -> tuple[float | None, list[float]]:
    stop = threading.Event()
    trained, accuracies, reached = [0.0], [], [None]

    def on_epoch(stats, _trainer):
        trained[0] += stats.seconds
        accuracies.append(stats.val_acc)
        print(f"  ours epoch {stats.epoch}: {stats.val_acc:.2f}% after {trained[0]:.0f} s", flush=True)
        if stats.val_acc >= TARGET and reached[0] is None:
            reached[0] = trained[0]
            stop.set()

    # Time to a *test* accuracy, as the baseline measures it: here the test set is the per-epoch measure.
    config = recipe("fast", device="cpu", validation_size=0)
    loaders = make_loaders(config, data_dir())
    run_training(
        config, data_dir(), on_epoch=on_epoch, stop_event=stop, loaders=loaders._replace(validation=loaders.test)
    )
    return reached[0], accuracies


def main() -> None:
    print(f"machine: {machine()}")
    ours, ours_acc = ours_time_to_target()
    base, base_acc = baseline_time_to_target()
    print(
        f"ours (fast recipe):            {ours if ours is None else f'{ours:.0f} s'} to {TARGET}%  ({len(ours_acc)} epochs)"
    )
    print(
        f"baseline (classic recipe, DataLoader): {base if base is None else f'{base:.0f} s'} to {TARGET}%  ({len(base_acc)} epochs)"
    )
    if ours and base:
        print(f"speed-up: {base / ours:.2f}x")


if __name__ == "__main__":
    main()
