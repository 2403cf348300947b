"""Attribution maps for one drawn digit on this machine, warm: Grad-CAM, saliency, Integrated Gradients, occlusion.

    python -m benchmarks.attribution
Side by side: Grad-CAM of every stage in one pass (resnet_core.inside.attribution.grad_cam) and Captum's
LayerGradCam once per stage on a private copy of the model (a hook on the shared model would fire in
other sessions' predictions). Medians and 95th percentiles of 50 calls; the Draw page's budget
is 50 ms for Grad-CAM of all four stages of ResNet-18.
"""

from __future__ import annotations

import copy

import torch

from benchmarks.common import machine, median_p95, timings_ms
from benchmarks.latency import canvas
from resnet_core.digits.preprocess import preprocess_canvas
from resnet_core.inside.attribution import grad_cam, integrated_gradients, occlusion, saliency
from resnet_core.networks.resnet import build_model

REPEATS = 50


def _captum_grad_cam(model, x, target: int) -> None:
    from captum.attr import LayerAttribution, LayerGradCam

    private = copy.deepcopy(model)
    for stage in private.stages:
        cam = LayerGradCam(private, private.get_submodule(stage)).attribute(x, target=target, relu_attributions=True)
        LayerAttribution.interpolate(cam, (28, 28), interpolate_mode="bilinear")


def _row(what: str, samples: list[float]) -> float:
    median, p95 = median_p95(samples)
    print(f"{what:<58}{median:>10.2f}{p95:>10.2f}")
    return median


def _measure(arch: str, x: torch.Tensor) -> None:
    model = build_model(arch).eval()
    stages = len(model.stages)
    ours = _row(f"{arch}: Grad-CAM, all {stages} stages, one pass", timings_ms(lambda: grad_cam(model, x, 1), REPEATS))
    theirs = _row(
        f"{arch}: Grad-CAM, Captum LayerGradCam x{stages} on a copy",
        timings_ms(lambda: _captum_grad_cam(model, x, 1), REPEATS),
    )
    print(f"{arch}: one pass / Captum median time: {ours / theirs:.2f}x")
    _row(f"{arch}: saliency (Captum)", timings_ms(lambda: saliency(model, x, 1), REPEATS))
    _row(
        f"{arch}: Integrated Gradients, 32 steps (Captum)",
        timings_ms(lambda: integrated_gradients(model, x, 1), REPEATS),
    )
    _row(f"{arch}: occlusion, 6 px patch, stride 2 (Captum)", timings_ms(lambda: occlusion(model, x, 1), 10))


def main() -> None:
    torch.manual_seed(0)
    x = preprocess_canvas(canvas()).tensor
    print(f"machine: {machine()}")
    print(f"{'what':<58}{'median ms':>10}{'p95 ms':>10}")
    for arch in ("resnet18", "resnet20"):
        _measure(arch, x)


if __name__ == "__main__":
    main()
