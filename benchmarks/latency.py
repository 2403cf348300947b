"""Single-digit latency on this machine, warm: canvas preprocessing + prediction, and all feature maps.

    python -m benchmarks.latency
Side by side: predict() on the model as trained, and Predictor (BatchNorm folded,
channels-last), which the Draw page uses; and the probability chart every stroke draws, with and
without the fonts ui.charts.readable sets on it. Medians and 95th percentiles of 200 calls.
"""

from __future__ import annotations

import numpy as np
import torch

from benchmarks.common import machine, median_p95, timings_ms
from resnet_core.digits.predictor import Predictor
from resnet_core.digits.preprocess import preprocess_canvas
from resnet_core.digits.reading import predict
from resnet_core.inside.feature_maps import feature_layer_names
from resnet_core.networks.resnet import build_model
from ui import charts


def canvas() -> np.ndarray:
    image = np.zeros((280, 280, 4), np.uint8)
    image[..., 3] = 255
    image[60:220, 130:150, :3] = 255  # a thick "1"
    image[60:80, 110:150, :3] = 255
    return image


def _row(what: str, samples: list[float]) -> None:
    median, p95 = median_p95(samples)
    print(f"{what:<48}{median:>10.2f}{p95:>10.2f}")


def main() -> None:
    torch.manual_seed(0)
    drawing = canvas()
    print(f"machine: {machine()}")
    print(f"{'what':<48}{'median ms':>10}{'p95 ms':>10}")
    _row("preprocess 280x280 canvas alone", timings_ms(lambda: preprocess_canvas(drawing), repeats=200))
    for arch in ("resnet18", "resnet50"):
        model = build_model(arch).eval()
        fast = Predictor(model)
        plain = timings_ms(lambda m=model: predict(m, preprocess_canvas(drawing).tensor), repeats=200)
        folded = timings_ms(lambda f=fast: f(preprocess_canvas(drawing).tensor), repeats=200)
        _row(f"{arch}: canvas -> probabilities, predict()", plain)
        _row(f"{arch}: canvas -> probabilities, Predictor", folded)
        print(f"{arch}: Predictor / predict() median time: {median_p95(folded)[0] / median_p95(plain)[0]:.2f}x")
    model = build_model("resnet18").eval()
    x = preprocess_canvas(drawing).tensor
    layers = len(feature_layer_names(model))
    _row(f"resnet18: feature maps of all {layers} layers", timings_ms(lambda: model.get_feature_maps(x), repeats=200))
    probabilities = np.full(10, 0.01)
    probabilities[1] = 0.91
    digits = tuple("0123456789")
    bare = timings_ms(lambda: charts.probability_bars.__wrapped__(probabilities, digits), repeats=200)
    readable = timings_ms(lambda: charts.probability_bars(probabilities, digits), repeats=200)
    _row("probability chart, Plotly figure alone", bare)
    _row("probability chart, with readable fonts", readable)
    print(f"readable fonts add {median_p95(readable)[0] - median_p95(bare)[0]:.2f} ms per stroke's chart")


if __name__ == "__main__":
    main()
