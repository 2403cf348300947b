"""Single-digit latency on this machine, warm: canvas preprocessing + prediction, and all feature maps.

    python -m benchmarks.latency
Goals (issue 4): ResNet-18 median <= 5 ms and p95 <= 10 ms; ResNet-50 median <= 15 ms;
feature maps of all blocks <= 30 ms (ResNet-18).
"""

from __future__ import annotations

import time

import numpy as np
import torch

from benchmarks.common import machine, median_p95, timings_ms
from resnet_core.inference import predict, preprocess_canvas
from resnet_core.models import build_model
from resnet_core.predictor import Predictor


def canvas() -> np.ndarray:
    image = np.zeros((280, 280, 4), np.uint8)
    image[..., 3] = 255
    image[60:220, 130:150, :3] = 255  # a thick "1"
    image[60:80, 110:150, :3] = 255
    return image


def main() -> None:
    torch.manual_seed(0)
    drawing = canvas()
    print(f"machine: {machine()}")
    print(f"{'what':<48}{'median ms':>10}{'p95 ms':>10}{'goal':>18}")
    prep = timings_ms(lambda: preprocess_canvas(drawing), repeats=200)
    print(f"{'preprocess 280x280 canvas alone':<48}{median_p95(prep)[0]:>10.2f}{median_p95(prep)[1]:>10.2f}{'':>18}")
    for arch, goal in (("resnet18", "median 5, p95 10"), ("resnet50", "median 15")):
        model = build_model(arch).eval()
        plain = timings_ms(lambda m=model: predict(m, preprocess_canvas(drawing).tensor), repeats=200)
        fast = Predictor(model)
        folded = timings_ms(lambda f=fast: f(preprocess_canvas(drawing).tensor), repeats=200)
        med, p95 = median_p95(plain)
        print(f"{arch + ': canvas -> probabilities, predict()':<48}{med:>10.2f}{p95:>10.2f}{'':>18}")
        med, p95 = median_p95(folded)
        print(f"{arch + ': canvas -> probabilities, Predictor':<48}{med:>10.2f}{p95:>10.2f}{'':>18}")
        started = time.perf_counter()
        compiled = Predictor(model, compile=True)
        compile_s = time.perf_counter() - started
        if not compiled.compiled:
            print(f"{arch}: torch.compile failed ({compiled.compile_error}); the app would stay eager")
            continue
        fastest = timings_ms(lambda f=compiled: f(preprocess_canvas(drawing).tensor), repeats=200)
        med, p95 = median_p95(fastest)
        label = f"{arch}: canvas -> probabilities, compiled"
        print(f"{label:<48}{med:>10.2f}{p95:>10.2f}{goal:>18}   (compiling took {compile_s:.1f} s)")
    model = build_model("resnet18").eval()
    x = preprocess_canvas(drawing).tensor
    samples = timings_ms(lambda: model.get_feature_maps(x), repeats=200)
    med, p95 = median_p95(samples)
    print(f"{'resnet18: feature maps of all 13 layers':<48}{med:>10.2f}{p95:>10.2f}{'30':>18}")


if __name__ == "__main__":
    main()
