"""Training throughput, side by side in one process: a plain DataLoader pipeline vs resnet_core's.

    RESNET_DATA_DIR=path/to/data python -m benchmarks.pipeline [--steps 100] [--turn 5]

Baseline = what a user writes with torchvision alone: MNIST + DataLoader(batch 128, shuffle)
with RandomRotation(10), RandomAffine(translate=0.1), ToTensor, Normalize, and torchvision's
resnet18 with a 1-channel conv1 and 10 outputs; Adam 1e-3, wd 1e-4. The two sides of each
comparison take turns of a few steps (see `interleaved`), so both see the same machine. Prints:
- images/s of resnet_core's loader + ResNetTrainer against the baseline at num_workers 0, 1, 2;
- ResNetTrainer against a bare training loop on the same batches, model and optimiser: what
  the trainer's own bookkeeping costs;
- the augmentation stage alone per sample, and achieved GFLOP/s against a measured matmul peak.
"""

from __future__ import annotations

import argparse
import itertools
import time

import torch
import torch.nn.functional as F
import torchvision
from torch import nn
from torch.utils.data import DataLoader
from torchvision import transforms

from benchmarks.common import data_dir, machine
from resnet_core.data.augment import random_affine
from resnet_core.data.datasets import MNISTDataLoader, load_split
from resnet_core.networks.layer_tables import layer_table
from resnet_core.networks.resnet import resnet18
from resnet_core.training.trainer import ResNetTrainer

BATCH = 128
SEGMENT = 5  # steps per turn by default; the app's trainer reports every 5 steps too
BASELINE_TRANSFORM = transforms.Compose(
    [
        transforms.RandomRotation(10),
        transforms.RandomAffine(0, translate=(0.1, 0.1)),
        transforms.ToTensor(),
        transforms.Normalize((0.1307,), (0.3081,)),
    ]
)


def baseline_model() -> nn.Module:
    model = torchvision.models.resnet18(num_classes=10)
    model.conv1 = nn.Conv2d(1, 64, kernel_size=7, stride=2, padding=3, bias=False)
    return model


def bare_step(model: nn.Module, optimizer: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor) -> None:
    optimizer.zero_grad(set_to_none=True)
    F.cross_entropy(model(x), y).backward()
    optimizer.step()


def baseline_stepper(workers: int):
    """One training step of the DataLoader baseline per call, its batch fetched inside the call."""
    dataset = torchvision.datasets.MNIST(data_dir(), train=True, transform=BASELINE_TRANSFORM)
    loader = DataLoader(dataset, batch_size=BATCH, shuffle=True, num_workers=workers, persistent_workers=workers > 0)
    batches = itertools.cycle(loader)
    model = baseline_model().train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-4)
    return lambda: bare_step(model, optimizer, *next(batches))


def bare_stepper(batches: list):
    """One step of a bare loop per call over `batches`: ResNet-18, Adam, cross-entropy, nothing else."""
    torch.manual_seed(0)
    model = resnet18().train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-4)
    position = itertools.cycle(range(len(batches)))
    return lambda: bare_step(model, optimizer, *batches[next(position)])


def interleaved(loader, other_step, segments: int, segment: int = SEGMENT) -> tuple[float, float]:
    """(ResNetTrainer images/s over `loader`, `other_step` images/s), in alternating segments.

    The trainer reports every `segment` steps (as the app does, every 5); each report runs `segment`
    of the other side's steps, timed apart. The first segment of each side warms up and is not counted.
    Taking turns every second or so, both sides see the same machine: a 2-core VM's speed drifts
    by 10% from one minute to the next, more than the difference measured.
    """
    torch.manual_seed(0)
    trainer = ResNetTrainer(resnet18(), device="cpu")
    seconds = {"trainer": 0.0, "other": 0.0}
    resumed = [0.0]  # when the trainer went on after the other side's turn

    def take_turn(progress) -> None:
        if progress.step > segment:
            seconds["trainer"] += time.perf_counter() - resumed[0]
        start = time.perf_counter()
        for _ in range(segment):
            other_step()
        if progress.step > segment:
            seconds["other"] += time.perf_counter() - start
        resumed[0] = time.perf_counter()

    assert len(loader) == (segments + 1) * segment
    trainer.train(
        loader, None, num_epochs=1, learning_rate=1e-3, weight_decay=1e-4, on_step=take_turn, report_every=segment
    )
    images = segments * segment * BATCH
    return images / seconds["trainer"], images / seconds["other"]


def training_batches(segments: int, segment: int = SEGMENT) -> MNISTDataLoader:
    subset = (segments + 1) * segment * BATCH
    return MNISTDataLoader(batch_size=BATCH, data_dir=data_dir(), device="cpu", train_subset=subset).get_train_loader()


def augmentation_us_per_sample() -> tuple[float, float]:
    images, _ = load_split("mnist", train=True, data_dir=data_dir())
    pil = [transforms.functional.to_pil_image(img) for img in images[:512]]
    start = time.perf_counter()
    for img in pil:
        BASELINE_TRANSFORM(img)
    pil_us = 1e6 * (time.perf_counter() - start) / len(pil)
    batch = images[:BATCH].unsqueeze(1).float().div_(255)
    generator = torch.Generator().manual_seed(0)
    random_affine(batch, generator=generator)
    start = time.perf_counter()
    for _ in range(20):
        random_affine(batch, generator=generator)
    ours_us = 1e6 * (time.perf_counter() - start) / (20 * BATCH)
    return pil_us, ours_us


def matmul_peak_gflops(n: int = 2048, repeats: int = 10) -> float:
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    start = time.perf_counter()
    for _ in range(repeats):
        a @ b
    return 2 * n**3 * repeats / (time.perf_counter() - start) / 1e9


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=100, help="timed training steps per side and comparison")
    parser.add_argument("--turn", type=int, default=SEGMENT, help="steps each side takes before the other's turn")
    args = parser.parse_args()
    print(f"machine: {machine()}", flush=True)
    turn = args.turn
    segments = max(1, args.steps // turn)
    print(f"{segments * turn} timed steps of batch {BATCH} per side, in turns of {turn} steps")
    for workers in (0, 1, 2):
        ours, baseline = interleaved(training_batches(segments, turn), baseline_stepper(workers), segments, turn)
        print(
            f"DataLoader baseline, num_workers={workers}: {baseline:7.1f} images/s; "
            f"resnet_core loader + ResNetTrainer: {ours:7.1f} images/s; ratio {ours / baseline:.2f}x",
            flush=True,
        )
    batches = list(training_batches(segments, turn))
    trainer, bare = interleaved(batches, bare_stepper(batches), segments, turn)
    print(f"same batches: bare loop {bare:7.1f}, ResNetTrainer {trainer:7.1f} images/s; ratio {trainer / bare:.2f}x")
    pil_us, ours_us = augmentation_us_per_sample()
    print(f"augmentation per sample: PIL {pil_us:.1f} us, batched {ours_us:.2f} us: {pil_us / ours_us:.0f}x faster")
    macs = layer_table(resnet18(), depth=1).total_mult_adds
    train_gflop_per_image = 3 * 2 * macs / 1e9  # forward, and backward at about twice the forward
    peak = matmul_peak_gflops()
    achieved = trainer * train_gflop_per_image
    print(
        f"achieved {achieved:.0f} GFLOP/s training ({train_gflop_per_image * 1e3:.0f} MFLOP per image) "
        f"= {100 * achieved / peak:.0f}% of a measured fp32 matmul peak of {peak:.0f} GFLOP/s"
    )


if __name__ == "__main__":
    main()
