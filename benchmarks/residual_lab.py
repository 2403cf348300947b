"""The Residual Lab's costs and results: gradient-flow recording overhead, the default twin run and depth sweep.

    RESNET_DATA_DIR=path/to/data python -m benchmarks.residual_lab              # overhead, twin run, sweep
    RESNET_DATA_DIR=path/to/data python -m benchmarks.residual_lab --reference  # full-data twins (long on a CPU)

Overhead: one trainer takes turns of `--turn` steps with and without a GradientFlowRecorder
(every 10 steps, as the lab records) on the same batches, in A B B A order, so drift of the
machine favours neither side. The twin run and the sweep use the lab page's defaults (ui.lab settings).
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from benchmarks.common import data_dir, machine
from resnet_core.depth_study.twins import TWINS, DepthSweep, TwinRun, default_twin_config, lab_data
from resnet_core.inside.gradient_flow import GradientFlowRecorder
from resnet_core.inside.lesion import lesion_study, mean_accuracy_drop
from resnet_core.networks.resnet import build_model
from resnet_core.training.trainer import ResNetTrainer

LAB_TRAIN_DIGITS = 4_000  # the page's default subset
SWEEP_DEPTHS = ("resnet8", "resnet20", "resnet56")


def step_seconds(trainer: ResNetTrainer, batches: list) -> float:
    started = time.perf_counter()
    for x, y in batches:
        trainer.train_step(x, y)
    return (time.perf_counter() - started) / len(batches)


def recording_overhead(arch: str, residual: bool, every: int, turns: int, turn: int, data) -> tuple[float, float]:
    """(median seconds per step without, with the recorder) over interleaved turns."""
    torch.manual_seed(0)
    model = build_model(arch, residual=residual)
    # A constant rate: the one-cycle schedule would end after one epoch's steps.
    trainer = ResNetTrainer(model, "cpu", default_twin_config(arch, device="cpu", scheduler="constant"))
    trainer.prepare(len(data.train))
    model.train()
    loader = iter(TwinRun(default_twin_config(arch, device="cpu"), data).batches)
    batches = [next(loader) for _ in range(turn)]
    step_seconds(trainer, batches[:3])  # warm-up
    without, with_recorder = [], []
    with GradientFlowRecorder(model, every=every) as recorder:
        for turn_index in range(turns):
            # A B, then B A: a machine that speeds up or slows down favours neither side.
            for callbacks in [(), (recorder,)][:: 1 if turn_index % 2 == 0 else -1]:
                trainer.callbacks = callbacks
                (with_recorder if callbacks else without).append(step_seconds(trainer, batches))
    return statistics.median(without), statistics.median(with_recorder)


def print_twin_result(label: str, snap) -> None:
    for twin in TWINS:
        final = snap.final[twin]
        print(f"  {label} {twin:8s} train loss {final['train_loss']:.3f}  test accuracy {final['test_accuracy']:.1f}%")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--turns", type=int, default=8)
    parser.add_argument("--turn", type=int, default=20, help="steps per turn")
    parser.add_argument("--reference", action="store_true", help="full-data twins instead (ResNet-20 and -56)")
    parser.add_argument("--epochs", type=int, default=5, help="epochs of the --reference runs")
    parser.add_argument("--smoke", action="store_true", help="a tiny run that checks the script (ResNet-8/20)")
    args = parser.parse_args()
    digits, twin_arch, sweep_depths = LAB_TRAIN_DIGITS, "resnet56", SWEEP_DEPTHS
    if args.smoke:
        digits, twin_arch, sweep_depths = 320, "resnet8", ("resnet8", "resnet20")
        args.turns, args.turn = 2, 3
    print(f"machine: {machine()}")
    if args.reference:
        data = lab_data(train_subset=None, test_subset=None, device="cpu", data_dir=data_dir())
        for arch in ("resnet20", "resnet56"):
            config = default_twin_config(arch, device="cpu", epochs=args.epochs, batch_size=128, augment=True)
            run = TwinRun(config, data, evaluations=args.epochs)
            run.run()
            snap = run.snapshot()
            print(f"{arch}, 60,000 digits, {args.epochs} epochs, batch 128, augmented, {snap.seconds / 60:.1f} min:")
            print_twin_result(arch, snap)
            for twin in TWINS:
                curve = snap.curves[twin]
                print(f"    {twin} test accuracy by epoch: {', '.join(f'{a:.2f}' for a in curve.test_accuracy)}")
        return

    data = lab_data(train_subset=digits, test_subset=1_000, device="cpu", data_dir=data_dir())
    print("gradient-flow recording, seconds per training step at batch 64 (median of interleaved turns):")
    for arch, residual, every in ((twin_arch, True, 10), (twin_arch, False, 10), ("resnet20", True, 10)):
        off, on = recording_overhead(arch, residual, every, args.turns, args.turn, data)
        kind = "residual" if residual else "plain"
        print(
            f"  {arch} {kind:8s} every {every:2d}: off {1000 * off:6.1f} ms  on {1000 * on:6.1f} ms  {on / off:.3f}x",
            flush=True,
        )

    run = TwinRun(default_twin_config(twin_arch, device="cpu"), data)
    run.run()
    snap = run.snapshot()
    print(f"twin run ({twin_arch} and its plain twin, {digits:,} digits, 1 epoch): {snap.seconds:.1f} s")
    print_twin_result(twin_arch, snap)
    ratios = {twin: snap.gradients[twin].first_to_last() for twin in TWINS}
    print(
        "  gradient at the first block / at the last (median over recorded steps): "
        + ", ".join(f"{twin} {ratio:.3g}x" for twin, ratio in ratios.items())
    )
    for twin in TWINS:
        started = time.perf_counter()
        results = lesion_study(run.nets[twin], data.test_images[:500], data.test_labels[:500])
        removed = [r for r in results[1:] if r.accuracy is not None]
        worst = sorted(removed, key=lambda r: r.accuracy)[:3]
        print(
            f"  lesions, {twin}: intact {results[0].accuracy:.1f}%, mean drop {mean_accuracy_drop(results):.1f} points "
            f"over {len(removed)} blocks, worst {', '.join(f'{r.removed[0]} {r.accuracy:.1f}%' for r in worst)} "
            f"({time.perf_counter() - started:.1f} s)"
        )

    sweep = DepthSweep(sweep_depths, default_twin_config(device="cpu"), data)
    started = time.perf_counter()
    sweep.run()
    points, _ = sweep.snapshot()
    print(f"depth sweep ({', '.join(sweep_depths)}): {time.perf_counter() - started:.1f} s")
    for point in points:
        print(
            f"  depth {point.depth:3d}: train loss residual {point.train_loss['residual']:.3f} plain "
            f"{point.train_loss['plain']:.3f}; test accuracy residual {point.test_accuracy['residual']:.1f}% "
            f"plain {point.test_accuracy['plain']:.1f}%  ({point.seconds:.1f} s)"
        )


if __name__ == "__main__":
    main()
