"""Training throughput, side by side in one process: the spec's DataLoader pipeline vs resnet_core's.

    python benchmarks/pipeline.py [--steps 40]
Baseline = what a user would write from the spec: torchvision MNIST + DataLoader(batch 128,
shuffle) with RandomRotation(10), RandomAffine(translate=0.1), ToTensor, Normalize, and
torchvision's resnet18 with a 1-channel conv1 and 10 outputs; Adam 1e-3, wd 1e-4.
Prints images/s for each (baseline at its best num_workers of 0, 1, 2), the ratio, the
augmentation stage alone per sample, and achieved GFLOP/s against a measured matmul peak.
"""

from __future__ import annotations

import argparse
import itertools
import time

import torch
import torchvision
from torch import nn
from torch.utils.data import DataLoader
from torchvision import transforms

from benchmarks.common import data_dir, machine
from resnet_core.augment import random_affine
from resnet_core.data import MNISTDataLoader, load_split
from resnet_core.models import resnet18
from resnet_core.summary import layer_table
from resnet_core.train import ResNetTrainer

BATCH = 128
SPEC_TRANSFORM = transforms.Compose(
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


def baseline_images_per_second(workers: int, steps: int) -> float:
    dataset = torchvision.datasets.MNIST(data_dir(), train=True, transform=SPEC_TRANSFORM)
    loader = DataLoader(dataset, batch_size=BATCH, shuffle=True, num_workers=workers, persistent_workers=workers > 0)
    model = baseline_model().train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-4)
    criterion = nn.CrossEntropyLoss()
    batches = iter(loader)
    for x, y in itertools.islice(batches, 3):  # warm-up, workers started
        optimizer.zero_grad(set_to_none=True)
        criterion(model(x), y).backward()
        optimizer.step()
    start = time.perf_counter()
    for x, y in itertools.islice(batches, steps):
        optimizer.zero_grad(set_to_none=True)
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()
    return steps * BATCH / (time.perf_counter() - start)


def ours_images_per_second(steps: int) -> float:
    data = MNISTDataLoader(batch_size=BATCH, data_dir=data_dir(), device="cpu", train_subset=(steps + 3) * BATCH)
    train_loader = data.get_train_loader()
    trainer = ResNetTrainer(resnet18(), device="cpu")
    history = trainer.train(train_loader, None, num_epochs=1, learning_rate=1e-3, weight_decay=1e-4)
    # The epoch includes 3 warm-up steps' worth of images; its rate is the end-to-end figure.
    return history["images_per_second"][-1]


def augmentation_us_per_sample() -> tuple[float, float]:
    images, _ = load_split("mnist", train=True, data_dir=data_dir())
    pil = [transforms.functional.to_pil_image(img) for img in images[:512]]
    start = time.perf_counter()
    for img in pil:
        SPEC_TRANSFORM(img)
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
    parser.add_argument("--steps", type=int, default=40, help="timed training steps per pipeline")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    baseline = {w: baseline_images_per_second(w, args.steps) for w in (0, 1, 2)}
    ours = ours_images_per_second(args.steps)
    best_workers = max(baseline, key=baseline.get)
    # A second round in the other order, so drift of the machine does not favour either side.
    ours = max(ours, ours_images_per_second(args.steps))
    baseline[best_workers] = max(baseline[best_workers], baseline_images_per_second(best_workers, args.steps))
    for w, rate in baseline.items():
        print(f"baseline, num_workers={w}: {rate:7.1f} images/s")
    print(f"resnet_core pipeline:      {ours:7.1f} images/s")
    print(
        f"ratio ours / best baseline (num_workers={best_workers}): {ours / baseline[best_workers]:.2f}x  (goal >= 1.1x)"
    )
    pil_us, ours_us = augmentation_us_per_sample()
    print(
        f"augmentation per sample: PIL {pil_us:.1f} us, batched {ours_us:.2f} us: {pil_us / ours_us:.0f}x faster (goal >= 10x)"
    )
    macs = layer_table(resnet18(), depth=1).total_mult_adds
    train_gflop_per_image = 3 * 2 * macs / 1e9  # forward, and backward at about twice the forward
    peak = matmul_peak_gflops()
    achieved = ours * train_gflop_per_image
    print(
        f"achieved {achieved:.0f} GFLOP/s training ({train_gflop_per_image * 1e3:.0f} MFLOP per image) "
        f"= {100 * achieved / peak:.0f}% of a measured fp32 matmul peak of {peak:.0f} GFLOP/s"
    )


if __name__ == "__main__":
    main()
