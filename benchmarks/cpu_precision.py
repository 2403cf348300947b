"""bf16 autocast against fp32 for CPU training, sustained, side by side in one process.

    RESNET_DATA_DIR=path/to/data python -m benchmarks.cpu_precision [--seconds 15] [--rounds 2] [--smoke]

For each net, fp32 and bf16 autocast take turns training on real MNIST batches (batch 128,
Adam) for `--seconds` each, `--rounds` times; images/s counts every step of every turn, so a
CPU that slows its clock under AMX or AVX-512 load shows it. Training's `precision` setting
is "auto" (fp32 on a CPU); where this prints a clear gain for your net, `--precision bf16`
(or "bf16" on the Train page) takes it. --smoke: ResNet-18 only, batch 16, half-second
turns, to check that the script runs (its figures mean nothing).
"""

from __future__ import annotations

import argparse
import time

import torch

from benchmarks.common import data_dir, machine
from benchmarks.pipeline import bare_step
from resnet_core.data.augment import normalize
from resnet_core.data.datasets import load_split
from resnet_core.networks.resnet import build_model
from resnet_core.training.precision import autocast

BATCH = 128
NETS = (("resnet18", "imagenet"), ("resnet18", "medium"), ("resnet50", "medium"))
CPU = torch.device("cpu")


def cpu_has_bf16() -> bool:
    """AVX-512 BF16 or AMX, from /proc/cpuinfo: without them bf16 is emulated (and was slower where measured)."""
    try:
        with open("/proc/cpuinfo") as f:
            flags = f.read()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def sustained_images_per_second(arch: str, stem: str, batches: list, seconds: float, rounds: int) -> dict[bool, float]:
    """Images/s by arithmetic (False: fp32, True: bf16 autocast) over alternating turns of `seconds`."""
    torch.manual_seed(0)
    model = build_model(arch, stem=stem).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    images = {False: 0, True: 0}
    elapsed = {False: 0.0, True: 0.0}
    step = 0
    for _ in range(rounds):
        for bf16 in (False, True):
            start = time.perf_counter()
            while time.perf_counter() - start < seconds:
                x, y = batches[step % len(batches)]
                with autocast(CPU, bf16):
                    bare_step(model, optimizer, x, y)
                images[bf16] += len(y)
                step += 1
            elapsed[bf16] += time.perf_counter() - start
    return {bf16: images[bf16] / elapsed[bf16] for bf16 in (False, True)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=15.0, help="length of each turn")
    parser.add_argument("--rounds", type=int, default=2, help="turns per precision, alternating")
    parser.add_argument("--smoke", action="store_true", help="a few seconds, to check the script runs")
    args = parser.parse_args()
    nets, batch = (NETS[:1], 16) if args.smoke else (NETS, BATCH)
    seconds, rounds = (0.5, 1) if args.smoke else (args.seconds, args.rounds)
    print(f"machine: {machine()}")
    print(f"bf16 instructions (AVX-512 BF16 or AMX): {'yes' if cpu_has_bf16() else 'no'}")
    digits, labels = load_split("mnist", train=True, data_dir=data_dir())
    batches = [
        (normalize(digits[i : i + batch].unsqueeze(1).float().div(255)), labels[i : i + batch])
        for i in range(0, 20 * batch, batch)
    ]
    for arch, stem in nets:
        rates = sustained_images_per_second(arch, stem, batches, seconds, rounds)
        print(
            f"{arch}, {stem} stem: fp32 {rates[False]:6.1f} images/s, bf16 autocast {rates[True]:6.1f} images/s, "
            f"bf16 / fp32 {rates[True] / rates[False]:.2f}x",
            flush=True,
        )


if __name__ == "__main__":
    main()
