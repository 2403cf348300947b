"""Time to 99.0% on MNIST: the sprint, the fast and the classic recipes in one process.

    RESNET_DATA_DIR=path/to/data python -m benchmarks.time_to_accuracy [--seeds 5] [--no-classic]
    RESNET_DATA_DIR=path/to/data python -m benchmarks.time_to_accuracy --smoke   # a minute: the script works

Sprint: `--recipe sprint` (ResNet-8, one epoch) and its plain twin, seed by seed in turns (residual,
plain, residual, ...), with the 5,000 validation digits held out as the app trains: seconds of
training to the first validation check at or above 99.0%, the run's training seconds, and its
accuracy on all 10,000 test digits, measured once at the end.
Fast: `--recipe fast` on ResNet-18, the test set measured after every epoch (no validation split);
the clock counts training only and stops at the first epoch >= 99.0%.
Classic: the original recipe (batch 128, Adam 1e-3, wd 1e-4, StepLR(7, 0.1)) on a plain DataLoader
pipeline (benchmarks.pipeline's, num_workers=2, torchvision resnet18), measured the same way.
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
from dataclasses import dataclass

import torch
import torchvision
from torch import nn
from torch.utils.data import DataLoader
from torchvision import transforms

from benchmarks.common import data_dir, machine
from benchmarks.pipeline import BASELINE_TRANSFORM, baseline_model
from resnet_core.training.config import TrainConfig, recipe
from resnet_core.training.evaluation import evaluate
from resnet_core.training.runner import make_loaders, run_training

TARGET = 99.0


@dataclass(frozen=True)
class SprintResult:
    seconds: float  # training time of the whole run
    to_target: float | None  # training seconds to the first validation check >= TARGET
    validation: list[float]  # every check's accuracy, percent
    test: float  # all test digits, once, at the end


def sprint(config: TrainConfig) -> SprintResult:
    result = run_training(config, data_dir())
    checks = result.trainer.checks
    reached = next((c.seconds for c in checks if c.val_acc >= TARGET), None)
    return SprintResult(sum(result.history["seconds"]), reached, [c.val_acc for c in checks], result.test.accuracy)


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
        print(f"  classic epoch {len(accuracies)}: {accuracies[-1]:.2f}% after {trained:.0f} s", flush=True)
        if accuracies[-1] >= TARGET:
            return trained, accuracies
    return None, accuracies


def fast_time_to_target(config: TrainConfig) -> tuple[float | None, list[float]]:
    stop = threading.Event()
    trained, accuracies, reached = [0.0], [], [None]

    def on_epoch(stats, _trainer):
        trained[0] += stats.seconds
        accuracies.append(stats.val_acc)
        print(f"  fast epoch {stats.epoch}: {stats.val_acc:.2f}% after {trained[0]:.0f} s", flush=True)
        if stats.val_acc >= TARGET and reached[0] is None:
            reached[0] = trained[0]
            stop.set()

    # Time to a *test* accuracy, as the classic side measures it: here the test set is the per-epoch measure.
    loaders = make_loaders(config, data_dir())
    run_training(
        config, data_dir(), on_epoch=on_epoch, stop_event=stop, loaders=loaders._replace(validation=loaders.test)
    )
    return reached[0], accuracies


def _seconds(value: float | None) -> str:
    return "never" if value is None else f"{value:.1f} s"


def _summary(name: str, results: list[SprintResult]) -> str:
    tests = [r.test for r in results]
    spread = f" ± {statistics.stdev(tests):.2f}" if len(tests) > 1 else ""
    reached = [r.to_target for r in results if r.to_target is not None]
    to_target = f"{statistics.mean(reached):.1f} s" if reached else "never"
    return (
        f"{name}, mean of {len(results)} seeds: test {statistics.mean(tests):.2f}%{spread} (lowest {min(tests):.2f}%), "
        f"training {statistics.mean(r.seconds for r in results):.1f} s, to {TARGET}% validation {to_target} "
        f"({len(reached)} of {len(results)} seeds got there)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--no-classic", action="store_true", help="leave out the classic recipe (minutes per epoch)")
    parser.add_argument("--smoke", action="store_true", help="1,000 digits, one seed, no fast or classic run")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    smoke = dict(train_subset=1_000, validation_size=500, test_subset=500) if args.smoke else {}
    seeds = 1 if args.smoke else args.seeds
    results: dict[str, list[SprintResult]] = {"sprint": [], "sprint, plain twin": []}
    for seed in range(seeds):  # in turns, so that both see the same machine
        for name, residual in (("sprint", True), ("sprint, plain twin", False)):
            result = sprint(recipe("sprint", seed=seed, residual=residual, device="cpu", **smoke))
            results[name].append(result)
            checks = " ".join(f"{v:.2f}" for v in result.validation)
            print(
                f"{name}, seed {seed}: test {result.test:.2f}%, training {result.seconds:.1f} s, to {TARGET}% "
                f"validation {_seconds(result.to_target)}; validation checks {checks}",
                flush=True,
            )
    for name, runs in results.items():
        print(_summary(name, runs))
    if args.smoke:
        return
    fast, fast_acc = fast_time_to_target(recipe("fast", device="cpu", validation_size=0))
    print(f"fast recipe (ResNet-18): {_seconds(fast)} to {TARGET}% test ({len(fast_acc)} epochs)")
    if not args.no_classic:
        classic, classic_acc = baseline_time_to_target()
        print(
            f"classic recipe (ResNet-18, DataLoader): {_seconds(classic)} to {TARGET}% test ({len(classic_acc)} epochs)"
        )
        if fast and classic:
            print(f"classic / fast: {classic / fast:.2f}x")


if __name__ == "__main__":
    main()
