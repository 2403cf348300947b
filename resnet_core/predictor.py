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
import threading
from contextlib import contextmanager

import torch
from torch import Tensor, nn
from torch.nn.utils.fusion import fuse_conv_bn_eval

log = logging.getLogger(__name__)


_freezing_lock = threading.Lock()
_freezing_users = 0
_freezing_before = False


@contextmanager
def _freezing():
    # Inductor reads `freezing` while it compiles, which happens at a call, not at
    # torch.compile(); `torch.compile(options={"freezing": True})` measured no faster
    # than eager here, so the setting is switched on around the calls instead. It is a
    # process-wide setting: a count of the calls inside keeps overlapping calls from
    # several threads from switching it off under each other, or leaving it on.
    import torch._inductor.config as inductor_config

    global _freezing_users, _freezing_before
    with _freezing_lock:
        if _freezing_users == 0:
            _freezing_before = inductor_config.freezing
            inductor_config.freezing = True
        _freezing_users += 1
    try:
        yield
    finally:
        with _freezing_lock:
            _freezing_users -= 1
            if _freezing_users == 0:
                inductor_config.freezing = _freezing_before


def prepare_compiler() -> None:
    """Do now, while no model runs in another thread, the one step of compiling that can break them.

    Inductor's first code generation in a process traces a placeholder with torch.fx, and
    fx patches nn.Module.__call__ for the whole process while it traces: a model called
    in another thread at that instant failed with "module is not installed as a
    submodule" (a training run or a page, while the app compiled in the background). The
    trace is kept for the life of the process, so doing it once up front (the app does it
    at start) makes later compiles safe for models running meanwhile. It reaches into
    Inductor's internals; where a torch release moves them, it does nothing.
    """
    try:
        from torch._inductor.loop_body import InterpreterShim

        InterpreterShim._dummy_gm()
    except (ImportError, AttributeError) as err:
        log.info("No Inductor placeholder trace to prepare (%s); compiling as it comes.", err)


def _reason(err: Exception) -> str:
    return f"{type(err).__name__}: {err}".splitlines()[0][:300]


def fold_batchnorm(module: nn.Module) -> nn.Module:
    """Fold each BatchNorm into the convolution it follows, in place (eval mode only).

    Pairs are found by the model's structure, `convN` with `bnN` and (conv, bn) in a
    Sequential, not by torch.fx tracing: fx patches nn.Module calls for the whole process
    while it traces, which broke other threads running a model at that moment. That
    pairing assumes each such bn directly follows its conv in forward, as in this
    package's ResNets; Predictor checks the folded outputs against the original's.
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
        self.in_channels = frozen.conv1.in_channels
        # channels_last helps oneDNN on CPUs and cuDNN on GPUs; elsewhere keep the default layout.
        self.channels_last = self.device.type in ("cpu", "cuda")
        self.eager = self._folded_or_unchanged(frozen)
        if self.channels_last:
            self.eager = self.eager.to(memory_format=torch.channels_last)
        self.module: nn.Module = self.eager
        self.compile_error: str | None = None
        if compile:
            self.compile()

    def _folded_or_unchanged(self, frozen: nn.Module) -> nn.Module:
        # Folding is only right when each paired bn directly follows its conv; a model
        # built otherwise would be changed silently, so compare before trusting it. A wrong
        # fold is off by the order of the logits; TF32 or reordered sums by far less.
        # Its own generator: building a predictor must not move the caller's random stream.
        x = torch.randn(2, self.in_channels, 28, 28, generator=torch.Generator().manual_seed(0)).to(self.device)
        # no_grad, not inference_mode: weights made under inference_mode would be inference
        # tensors, which the compiled module's calls outside it cannot use.
        with torch.no_grad():
            expected = frozen(x)
            folded = fold_batchnorm(copy.deepcopy(frozen))
            if torch.allclose(folded(x), expected, rtol=1e-2, atol=1e-2 * float(expected.abs().max())):
                return folded
        log.warning("Folding BatchNorm changed this model's outputs; predicting with the unfolded model.")
        return frozen

    @property
    def compiled(self) -> bool:
        return self.module is not self.eager

    def compile(self) -> bool:
        """Compile in place (seconds); calls meanwhile stay eager. False, with compile_error, on failure."""
        # One warm-up call compiles now, not on a user's first digit.
        example = torch.zeros(1, self.in_channels, 28, 28, device=self.device)
        try:
            # A copy of its own, so the module answering eager calls meanwhile is never the
            # one Dynamo traces and Inductor freezes (sharing it failed an app test once,
            # "Inference tensors do not track version counter"); costs one more set of weights.
            compiled = torch.compile(copy.deepcopy(self.eager))
            with torch.inference_mode(), _freezing():
                compiled(self._layout(example))
        except Exception as err:  # noqa: BLE001 - any compiler failure leaves a working eager predictor
            self.compile_error = _reason(err)
            log.warning("torch.compile failed, predicting without it: %s", self.compile_error)
            return False
        self.module = compiled
        return True

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
