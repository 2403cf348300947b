"""Which arithmetic a training run uses: bf16 autocast where it is faster, fp32 where it is not.

On CUDA bf16 autocast feeds the tensor cores and is always faster. On a CPU it depends on
the chip and on the net: CPUs without bf16 instructions ran slower in bf16 (the AMD EPYC
measured), and on an Intel Xeon with AMX ResNet-18 with the spec's stem trained at 0.74x
fp32's speed while the medium stem trained at 1.23x (benchmarks.cpu_precision). So on a CPU
with bf16 instructions a short probe decides, once per model shape per process.
"""

from __future__ import annotations

import copy
import time
from contextlib import nullcontext
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from resnet_core.inference import SIZE

# bf16 has to beat fp32 by this much to be chosen: it rounds more, so a tie goes to fp32.
MIN_SPEEDUP = 1.1
PROBE_STEPS = 2  # timed steps per precision per round (two rounds, alternating, best kept)
# The probe costs about ten training steps; below this many a 1.2x gain cannot repay it.
MIN_STEPS_TO_PROBE = 100


@dataclass(frozen=True)
class Precision:
    bf16: bool  # autocast to bfloat16 in the forward pass; weights and optimiser stay fp32
    reason: str  # one line for a person: why this arithmetic was chosen
    speedup: float | None = None  # bf16 / fp32 training speed the CPU probe measured, if it ran


def autocast(device: torch.device, bf16: bool):
    return torch.autocast(device.type, dtype=torch.bfloat16) if bf16 else nullcontext()


def training_step(model: nn.Module, optimizer: torch.optim.Optimizer, x: Tensor, y: Tensor, bf16: bool) -> None:
    """One plain cross-entropy step, the unit the probe (and benchmarks.cpu_precision) times."""
    optimizer.zero_grad(set_to_none=True)
    with autocast(x.device, bf16):
        logits = model(x)
    F.cross_entropy(logits.float(), y).backward()
    optimizer.step()


def cpu_has_bf16() -> bool:
    """AVX-512 BF16 or AMX: without them bf16 is emulated and slower (measured on an AMD EPYC)."""
    # Private torch helpers (torch 2.14 has both): a release without them stays in fp32.
    checks = (getattr(torch.cpu, name, None) for name in ("_is_avx512_bf16_supported", "_is_amx_tile_supported"))
    return any(check() for check in checks if check is not None)


def choose_precision(
    model: nn.Module,
    device: torch.device,
    requested: bool,
    batch_size: int,
    channels_last: bool = False,
    steps: int | None = None,
    processes: int = 1,
) -> Precision:
    """bf16 autocast when `requested` and faster on `device` for this model; fp32 otherwise.

    steps: the training steps the choice is for (None: enough to probe); processes: how many train together.
    """
    if not requested:
        return Precision(False, "fp32: mixed precision turned off")
    if device.type == "cuda":
        return Precision(True, "bf16 autocast: always faster on CUDA")
    if device.type != "cpu":
        return Precision(False, f"fp32: bf16 autocast is not used on {device.type}")
    if processes > 1:  # each process would probe alone and might choose differently
        return Precision(False, "fp32: bf16 is not probed for several CPU processes")
    if steps is not None and steps < MIN_STEPS_TO_PROBE:
        return Precision(False, f"fp32: {steps} steps are too few to pay for a bf16 speed probe")
    if not cpu_has_bf16():
        return Precision(False, "fp32: this CPU has no bf16 instructions (AVX-512 BF16 or AMX)")
    try:
        speedup = _cpu_speedup_once(model, batch_size, channels_last)
    except (RuntimeError, StopIteration, IndexError) as err:  # not a conv net of 28x28 images, say
        return Precision(False, f"fp32: the bf16 speed probe could not run this net ({type(err).__name__})")
    chosen = speedup >= MIN_SPEEDUP
    return Precision(
        chosen,
        f"{'bf16 autocast' if chosen else 'fp32'}: bf16 ran at {speedup:.2f}x fp32's speed "
        f"for this net on this CPU ({'faster' if chosen else f'not {MIN_SPEEDUP}x faster'})",
        speedup,
    )


_speedups: dict[tuple, float] = {}  # one probe per net shape, batch and thread count per process


def _cpu_speedup_once(model: nn.Module, batch_size: int, channels_last: bool) -> float:
    shapes = tuple((name, tuple(p.shape)) for name, p in model.named_parameters())
    key = (shapes, batch_size, channels_last, torch.get_num_threads())
    if key not in _speedups:
        _speedups[key] = cpu_speedup(model, batch_size, channels_last)
    return _speedups[key]


def cpu_speedup(model: nn.Module, batch_size: int, channels_last: bool = False) -> float:
    """bf16 autocast training steps per second over fp32's, on a copy of `model` (left untouched).

    Random digits and labels: the speed does not depend on the values. Two alternating rounds,
    the best of each kept, so a burst of other work on the machine does not decide alone.
    """
    probe = copy.deepcopy(model).train()
    for module in probe.modules():  # hooks the caller set (feature maps, say) must not see the probe's steps
        for hooks in (
            module._forward_pre_hooks,
            module._forward_hooks,
            module._backward_pre_hooks,
            module._backward_hooks,
        ):
            hooks.clear()
    first_conv = next(m for m in probe.modules() if isinstance(m, nn.Conv2d))
    last_linear = [m for m in probe.modules() if isinstance(m, nn.Linear)][-1]
    generator = torch.Generator().manual_seed(0)  # the global generator stays where the run left it
    x = torch.randn(batch_size, first_conv.in_channels, SIZE, SIZE, generator=generator)
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    y = torch.randint(0, last_linear.out_features, (batch_size,), generator=generator)
    optimizer = torch.optim.Adam(probe.parameters())

    def seconds_per_step(bf16: bool, steps: int) -> float:
        start = time.perf_counter()
        for _ in range(steps):
            training_step(probe, optimizer, x, y, bf16)
        return (time.perf_counter() - start) / steps

    seconds_per_step(False, 1), seconds_per_step(True, 1)  # warm-up: oneDNN builds its kernels
    fp32, bf16 = [], []
    for _ in range(2):
        fp32.append(seconds_per_step(False, PROBE_STEPS))
        bf16.append(seconds_per_step(True, PROBE_STEPS))
    return min(fp32) / min(bf16)
