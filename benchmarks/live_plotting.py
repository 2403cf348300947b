"""Does live plotting cost training speed? The app's progress callback vs none, side by side.

    RESNET_DATA_DIR=path/to/data python -m benchmarks.live_plotting [--steps 60] [--rounds 3]
The app reports every ui.training.work.REPORT_EVERY steps (one device sync each) and appends
each report to a list its page polls; the library's default reports every 20 steps
to no one. Runs alternate (A, B, A, B) so drift of the machine favours neither.
"""

from __future__ import annotations

import argparse
import statistics

import torch

from benchmarks.common import data_dir, machine
from resnet_core.data.datasets import MNISTDataLoader
from resnet_core.networks.resnet import resnet18
from resnet_core.training.trainer import ResNetTrainer
from ui.training.work import REPORT_EVERY


def images_per_second(loader, with_callback: bool) -> float:
    torch.manual_seed(0)
    trainer = ResNetTrainer(resnet18(), device="cpu")
    reports = []
    history = trainer.train(
        loader,
        None,
        num_epochs=1,
        learning_rate=1e-3,
        on_step=reports.append if with_callback else None,
        report_every=REPORT_EVERY if with_callback else 10**9,
    )
    return history["images_per_second"][-1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    loader = MNISTDataLoader(
        batch_size=128, data_dir=data_dir(), device="cpu", train_subset=args.steps * 128
    ).get_train_loader()
    images_per_second(loader, False)  # warm-up
    plain, live = [], []
    for _ in range(args.rounds):
        plain.append(images_per_second(loader, False))
        live.append(images_per_second(loader, True))
    p, q = statistics.median(plain), statistics.median(live)
    print(f"machine: {machine()}")
    print(f"no callback:                      {p:7.1f} images/s  (runs: {', '.join(f'{v:.0f}' for v in plain)})")
    print(
        f"app callback every {REPORT_EVERY} steps:        {q:7.1f} images/s  (runs: {', '.join(f'{v:.0f}' for v in live)})"
    )
    print(f"cost of live plotting: {100 * (1 - q / p):+.1f}% images/s")


if __name__ == "__main__":
    main()
