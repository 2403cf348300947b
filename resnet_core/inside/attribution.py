"""Where a ResNet looks: Grad-CAM per stage, input saliency, Integrated Gradients and occlusion, by Captum.

Every map is for one input x of shape (1, C, 28, 28) and one class, and comes back as a (28, 28)
float tensor on the CPU, so it can lie over the 28×28 image the model sees. The model is never
changed: the methods run on an eval-mode copy (BatchNorm uses its running statistics, as for a
prediction), so a model other users of the app predict with, or one that is training, is safe.

`randomized_copy` and `map_similarity` are for the sanity check of Adebayo et al. (2018): a
method whose maps look the same for a trained net and for the same net with random weights
explains the picture, not the network.
"""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from resnet_core.networks.resnet import for_inference

INPUT_SIDE = 28
INTEGRATED_GRADIENT_STEPS = 32  # Riemann steps from a black image to the input: converged to ~1% on digits
OCCLUSION_PATCH = 6  # pixels: about a stroke's width and a half on a 28×28 digit
OCCLUSION_STRIDE = 2
OCCLUSION_BATCH = 64  # covered copies run per forward pass: one at a time, ResNet-18 took 660 ms, not 150


def _captum():
    # Imported here so the library, the CLI and training work without captum installed.
    try:
        from captum import attr
    except ImportError as error:
        raise ModuleNotFoundError(
            "Attribution maps need Captum, which is not installed here: pip install captum "
            "(or pip install -r requirements.txt)."
        ) from error
    return attr


def _prepared(model: nn.Module, x: Tensor) -> tuple[nn.Module, Tensor]:
    model = for_inference(model)
    device = next(model.parameters()).device
    return model, x.detach().to(device).float().clone()  # the caller's tensor is never marked for gradients


def _to_map(attribution: Tensor) -> Tensor:
    """(1, C, H, W) -> (28, 28) on the CPU: channels summed, enlarged bilinearly if smaller."""
    summed = attribution.detach().float().sum(dim=1, keepdim=True)
    if summed.shape[-1] != INPUT_SIDE:
        summed = F.interpolate(summed, size=(INPUT_SIDE, INPUT_SIDE), mode="bilinear", align_corners=False)
    return summed[0, 0].cpu()


def grad_cam(model: nn.Module, x: Tensor, target: int, stages: tuple[str, ...] | None = None) -> dict[str, Tensor]:
    """Grad-CAM of class `target` at each stage's output (default: every stage), upsampled to 28×28.

    Per stage: ReLU(sum over channels of the channel's mean gradient × its map), as Captum's
    LayerGradCam computes it (tests/test_attribution.py checks they agree). Written here for two
    reasons: LayerGradCam hooks the layer, and a hook on a shared model would fire in every other
    user's predictions; and it needs a forward and a backward pass per stage, where one pass of the
    network's walk serves all stages here. A 1×1 stage (ResNet-18's layer4 with the ImageNet stem) gives a flat map.
    """
    model, x = _prepared(model, x)
    stages = stages or tuple(model.stages)
    with torch.enable_grad():
        outputs = dict(model.forward_features(x, stages=True))
        score = model.forward_head(outputs[model.stages[-1]])[0, target]
        # Gradients for the stage outputs only: nothing accumulates in the shared weights' .grad.
        gradients = torch.autograd.grad(score, [outputs[stage] for stage in stages])
    return {
        stage: _to_map(F.relu((gradient.mean(dim=(2, 3), keepdim=True) * outputs[stage]).sum(1, keepdim=True)))
        for stage, gradient in zip(stages, gradients)
    }


def saliency(model: nn.Module, x: Tensor, target: int) -> Tensor:
    """|d score / d pixel|: which pixels would change the class's score most if nudged."""
    attr = _captum()
    model, x = _prepared(model, x)
    with torch.enable_grad():
        return _to_map(attr.Saliency(model).attribute(x.requires_grad_(), target=target, abs=True))


def integrated_gradients(model: nn.Module, x: Tensor, target: int, baseline: Tensor | None = None) -> Tensor:
    """Integrated Gradients from `baseline` (default: the black canvas as the model sees it) to x.

    Signed: positive pixels raise the class's score, negative ones lower it. The maps add up
    (nearly) to score(x) - score(baseline), the completeness property.
    """
    attr = _captum()
    model, x = _prepared(model, x)
    if baseline is None:
        baseline = torch.full_like(x, float(x.min()))  # the blank canvas: the normalised value of black
    with torch.enable_grad():
        return _to_map(
            attr.IntegratedGradients(model).attribute(
                x, baselines=baseline.to(x.device), target=target, n_steps=INTEGRATED_GRADIENT_STEPS
            )
        )


def occlusion(model: nn.Module, x: Tensor, target: int, patch: int = OCCLUSION_PATCH) -> Tensor:
    """How much the class's probability drops when a patch of the canvas is blanked, per pixel.

    No gradients: cover part of the digit, watch the answer. Blank is the canvas's black.
    """
    attr = _captum()
    model, x = _prepared(model, x)

    def probability(inputs: Tensor) -> Tensor:
        return torch.softmax(model(inputs), dim=1)

    with torch.inference_mode():
        drop = attr.Occlusion(probability).attribute(
            x,
            sliding_window_shapes=(x.shape[1], patch, patch),
            strides=(x.shape[1], OCCLUSION_STRIDE, OCCLUSION_STRIDE),
            baselines=float(x.min()),
            target=target,
            perturbations_per_eval=OCCLUSION_BATCH,
        )
    return _to_map(drop)


def randomized_copy(model: nn.Module, seed: int = 0) -> nn.Module:
    """The same architecture with fresh random weights (the sanity check's control); the model is untouched."""
    twin = copy.deepcopy(model)
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for module in twin.modules():
            if isinstance(module, (nn.Conv2d, nn.Linear)):
                fan_in = module.weight[0].numel()
                weight = torch.randn(module.weight.shape, generator=generator) * (2.0 / fan_in) ** 0.5
                module.weight.copy_(weight.to(module.weight.device))
                if module.bias is not None:
                    module.bias.zero_()
    return twin.eval()


def map_similarity(a: Tensor, b: Tensor) -> float:
    """Spearman rank correlation of two maps' pixels: 1 same ordering, 0 unrelated. Tied pixels (the
    zeros of a ReLU'd map) share their average rank, so two maps are not alike for being blank alike."""

    def ranks(m: Tensor) -> Tensor:
        values, inverse, counts = torch.unique(m.flatten().double(), return_inverse=True, return_counts=True)
        last = torch.cumsum(counts, 0).double()
        return (last - (counts.double() - 1) / 2)[inverse]

    ra, rb = ranks(a), ranks(b)
    ra, rb = ra - ra.mean(), rb - rb.mean()
    return float((ra * rb).sum() / (ra.norm() * rb.norm()).clamp(min=1e-12))
