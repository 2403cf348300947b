"""A frozen, inference-only copy of a model, fast for one digit at a time.

Two levels, both giving the same probabilities as the model (to float rounding):
- eager: BatchNorm folded into the convolution before it, weights channels-last.
  On the 2-core CPU measured, ResNet-18 went from 5.9 to ~4 ms per digit.
- compiled (`compile=True`): the eager module through `torch.compile` with
  Inductor's freezing, which pre-packs the weights for oneDNN and fuses each
  convolution with its ReLU and residual add: ~1.5-2 ms for ResNet-18 on the same
  CPU. Compiling costs seconds (about 14 s the first time on 2 cores, 1-5 s once
  Inductor's on-disk cache is warm) and needs a C++ compiler on the CPU; when it
  fails, the predictor stays eager and says why in `compile_error`.
"""

from __future__ import annotations

import copy
import logging

import torch
from torch import Tensor, nn
from torch.nn.utils.fusion import fuse_conv_bn_eval

log = logging.getLogger(__name__)


def _freezing():
    # Inductor reads `freezing` while it compiles, which happens at a call, not at
    # torch.compile(); `torch.compile(options={"freezing": True})` measured no faster
    # than eager here, so the setting is patched around the calls instead.
    import torch._inductor.config

    return torch._inductor.config.patch(freezing=True)


def _reason(err: Exception) -> str:
    return f"{type(err).__name__}: {err}".splitlines()[0][:300]


def fold_batchnorm(module: nn.Module) -> nn.Module:
    """Fold each BatchNorm into the convolution it follows, in place (eval mode only).

    Pairs are found by the model's structure, `convN` with `bnN` and (conv, bn) in a
    Sequential, not by torch.fx tracing: fx patches nn.Module calls for the whole process
    while it traces, which broke other threads running a model at that moment.
    """
    for parent in module.modules():
        children = dict(parent.named_children())
        pairs = [(f"conv{n[2:]}", n) for n in children if n.startswith("bn")]
        if isinstance(parent, nn.Sequential):
            names = list(children)
            pairs += list(zip(names, names[1:]))
        for conv_name, bn_name in pairs:
            conv, bn = children.get(conv_name), children.get(bn_name)
            if isinstance(conv, nn.Conv2d) and isinstance(bn, nn.BatchNorm2d):
                setattr(parent, conv_name, fuse_conv_bn_eval(conv, bn))
                setattr(parent, bn_name, nn.Identity())
    return module


class Predictor:
    """Class probabilities for (N, C, 28, 28) inputs from a frozen copy of `model`.

    The original model is not changed; later changes to it are not seen (build a
    new Predictor). Safe to call from several threads.
    """

    def __init__(self, model: nn.Module, compile: bool = False) -> None:
        frozen = copy.deepcopy(model).eval()
        self.device = next(frozen.parameters()).device
        # channels_last helps oneDNN on CPUs and cuDNN on GPUs; elsewhere keep the default layout.
        self.channels_last = self.device.type in ("cpu", "cuda")
        self.eager = fold_batchnorm(frozen)
        if self.channels_last:
            self.eager = self.eager.to(memory_format=torch.channels_last)
        self.module: nn.Module = self.eager
        self.compile_error: str | None = None
        if compile:
            self._compile(in_channels=frozen.conv1.in_channels)

    @property
    def compiled(self) -> bool:
        return self.module is not self.eager

    def _compile(self, in_channels: int) -> None:
        # One warm-up call compiles now, not on a user's first digit.
        example = torch.zeros(1, in_channels, 28, 28, device=self.device)
        try:
            compiled = torch.compile(self.eager)
            with torch.inference_mode(), _freezing():
                compiled(self._layout(example))
        except Exception as err:  # noqa: BLE001 - any compiler failure leaves a working eager predictor
            self.compile_error = _reason(err)
            log.warning("torch.compile failed, predicting without it: %s", self.compile_error)
            return
        self.module = compiled

    def _layout(self, x: Tensor) -> Tensor:
        x = x.to(self.device)
        return x.contiguous(memory_format=torch.channels_last) if self.channels_last else x

    def __call__(self, x: Tensor) -> Tensor:
        """Class probabilities (N, num_classes) on the CPU for input (N, C, 28, 28)."""
        x = self._layout(x)
        with torch.inference_mode():
            if self.compiled:
                try:
                    with _freezing():  # a new input shape compiles again, and must freeze too
                        return torch.softmax(self.module(x).float(), dim=1).cpu()
                except Exception as err:  # noqa: BLE001 - e.g. a recompile for a new batch size failing
                    self.compile_error = _reason(err)
                    log.warning("compiled predictor failed, going back to eager: %s", self.compile_error)
                    self.module = self.eager
            return torch.softmax(self.eager(x).float(), dim=1).cpu()
