"""GPU figures in one run on one CUDA device, both pipelines side by side.

    RESNET_DATA_DIR=.gpu-data python -m benchmarks.gpu              # on the GPU machine
    python -m benchmarks.gpu --smoke                                # a tiny CPU run that checks this script

Prints, with the device's name:
1. the DataLoader baseline (benchmarks.pipeline, pinned memory) at several num_workers:
   steady-state images/s, then the classic recipe for its 10 epochs at the best of them;
2. resnet_core's pipeline with the classic recipe (batch 128, 10 epochs): training wall time,
   final test accuracy, steady-state images/s;
3. resnet_core's fast recipe for each seed: training wall time, final-epoch test accuracy
   (no test-time augmentation), steady-state images/s, peak GPU memory; then the mean.
Data loading (reading MNIST and moving it to the device) is timed and reported apart.
Training time counts the training steps only; each epoch's evaluation is outside the clock.
Targets: fast recipe >= 99.5% (mean of 5 seeds) in <= 10 s of training; classic recipe on
resnet_core's pipeline <= 25 s.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import time

import torch
import torchvision
from torch import nn
from torch.utils.data import DataLoader, Subset
from torchvision import transforms

from benchmarks.common import data_dir, machine
from benchmarks.pipeline import BASELINE_TRANSFORM, baseline_model
from resnet_core.networks.resnet import STEMS
from resnet_core.training.config import TrainConfig, recipe
from resnet_core.training.evaluation import evaluate
from resnet_core.training.runner import make_loaders, run_training


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _baseline_loader(workers: int, subset: int | None, device: torch.device) -> DataLoader:
    dataset = torchvision.datasets.MNIST(data_dir(), train=True, transform=BASELINE_TRANSFORM)
    if subset:
        dataset = Subset(dataset, range(subset))
    return DataLoader(
        dataset,
        batch_size=128,
        shuffle=True,
        num_workers=workers,
        pin_memory=device.type == "cuda",
        persistent_workers=workers > 0,
    )


def _baseline_step(model, optimizer, criterion, x, y, device) -> None:
    x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
    optimizer.zero_grad(set_to_none=True)
    criterion(model(x), y).backward()
    optimizer.step()


def baseline_images_per_second(workers: int, steps: int, device: torch.device, subset: int | None) -> float:
    torch.manual_seed(0)
    loader = _baseline_loader(workers, subset, device)
    model = baseline_model().to(device).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-4)
    criterion = nn.CrossEntropyLoss()
    batches = itertools.cycle(loader)
    for x, y in itertools.islice(batches, 5):  # warm-up: workers started, kernels chosen
        _baseline_step(model, optimizer, criterion, x, y, device)
    _sync(device)
    start = time.perf_counter()
    for x, y in itertools.islice(batches, steps):
        _baseline_step(model, optimizer, criterion, x, y, device)
    _sync(device)
    return steps * 128 / (time.perf_counter() - start)


def baseline_classic_run(workers: int, epochs: int, device: torch.device, subset: int | None) -> tuple[float, float]:
    """(training seconds, final test accuracy) of the classic recipe on the DataLoader baseline."""
    torch.manual_seed(0)
    loader = _baseline_loader(workers, subset, device)
    plain = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])
    test_set = torchvision.datasets.MNIST(data_dir(), train=False, transform=plain)
    test = DataLoader(Subset(test_set, range(subset)) if subset else test_set, batch_size=1000)
    model = baseline_model().to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-4)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=7, gamma=0.1)
    criterion = nn.CrossEntropyLoss()
    trained = 0.0
    for epoch in range(1, epochs + 1):
        model.train()
        _sync(device)
        start = time.perf_counter()
        for x, y in loader:
            _baseline_step(model, optimizer, criterion, x, y, device)
        scheduler.step()
        _sync(device)
        trained += time.perf_counter() - start
        print(f"  baseline classic epoch {epoch}: {trained:.1f} s of training so far", flush=True)
    return trained, evaluate(model, test, device).accuracy


def ours(config: TrainConfig, device: torch.device) -> dict:
    """One run of resnet_core: data-load seconds, training seconds, final accuracy, images/s, peak memory."""
    _sync(device)
    start = time.perf_counter()
    loaders = make_loaders(config, data_dir(), device)
    _sync(device)
    load_s = time.perf_counter() - start
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    result = run_training(config, data_dir(), loaders=loaders, report_every=100)
    history = result.history
    steady = history["images_per_second"][1:] or history["images_per_second"]  # epoch 1 includes warm-up
    return {
        "load_s": load_s,
        "train_s": sum(history["seconds"]),
        "accuracy": result.test.accuracy,
        "images_per_s": statistics.median(steady),
        "peak_gb": torch.cuda.max_memory_allocated(device) / 2**30 if device.type == "cuda" else None,
        "per_epoch": [round(a, 2) for a in history["val_acc"]],
    }


def _gb(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f} GB"


def _report(name: str, run: dict) -> None:
    print(
        f"{name}: {run['accuracy']:.2f}% after {run['train_s']:.1f} s of training "
        f"({run['images_per_s']:,.0f} images/s steady, data load {run['load_s']:.1f} s, "
        f"peak GPU memory {_gb(run['peak_gb'])}), per epoch {run['per_epoch']}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=5, help="fast-recipe runs, seeds 0..N-1")
    parser.add_argument("--epochs", type=int, default=5, help="fast recipe's epochs on the GPU")
    parser.add_argument("--batch-size", type=int, default=128, help="fast recipe's batch size")
    parser.add_argument("--lr", type=float, default=3e-3, help="fast recipe's peak learning rate")
    parser.add_argument(
        "--stem", default="imagenet", choices=tuple(STEMS), help="fast recipe's stem (medium: 14x14 maps)"
    )
    parser.add_argument("--workers", type=int, nargs="+", default=[2, 4, 8], help="baseline num_workers to try")
    parser.add_argument("--skip-baseline", action="store_true")
    parser.add_argument("--skip-classic", action="store_true", help="the fast recipe alone (no baseline either)")
    parser.add_argument("--smoke", action="store_true", help="tiny subsets on the CPU: checks the script only")
    args = parser.parse_args()
    device = torch.device("cpu" if args.smoke else "cuda")
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit(
            "No CUDA device here: run this on a GPU machine, or pass --smoke to check the script on a CPU."
        )
    subset = {"train_subset": 512, "test_subset": 256} if args.smoke else {}
    baseline_subset = 512 if args.smoke else None
    steps, classic_epochs, fast_epochs = (3, 1, 1) if args.smoke else (200, 10, args.epochs)
    print(f"machine: {machine()}", flush=True)

    if not args.skip_classic:
        classic = ours(recipe("classic", epochs=classic_epochs, device=str(device), **subset), device)
        _report("ours, classic recipe", classic)

    fast = []
    for seed in range(args.seeds):  # each seed reported as it ends, so a cut-short run keeps what it measured
        config = recipe(
            "fast",
            epochs=fast_epochs,
            batch_size=args.batch_size,
            lr=args.lr,
            stem=args.stem,
            seed=seed,
            device=str(device),
            **subset,
        )
        fast.append(ours(config, device))
        _report(
            f"ours, fast recipe ({fast_epochs} epochs, batch {args.batch_size}, {args.stem} stem), seed {seed}",
            fast[-1],
        )
    peaks = [r["peak_gb"] for r in fast if r["peak_gb"] is not None]
    accuracy = statistics.mean(r["accuracy"] for r in fast)
    seconds = statistics.mean(r["train_s"] for r in fast)
    print(
        f"fast recipe, mean of {len(fast)} seeds: {accuracy:.2f}% after {seconds:.1f} s of training "
        f"(target >= 99.5% in <= 10 s), peak GPU memory {_gb(max(peaks) if peaks else None)}"
    )
    if not (args.skip_baseline or args.skip_classic):  # last: the slowest part, and a comparison rather than a goal
        rates = {w: baseline_images_per_second(w, steps, device, baseline_subset) for w in args.workers}
        for w, rate in rates.items():
            print(f"baseline pipeline, num_workers={w}: {rate:,.0f} images/s steady", flush=True)
        best = max(rates, key=rates.get)
        base_s, base_acc = baseline_classic_run(best, classic_epochs, device, baseline_subset)
        print(f"baseline, classic recipe, num_workers={best}: {base_acc:.2f}% after {base_s:.1f} s of training")
        print(
            f"classic recipe, baseline / ours training time: {base_s / classic['train_s']:.2f}x  (target: ours <= 25 s)"
        )


if __name__ == "__main__":
    main()
