import io
import threading
import time

import numpy as np
import pytest
import torch
from PIL import Image

from resnet_core.data import stratified_indices
from resnet_core.inference import (
    MAX_IMAGE_PIXELS,
    EmptyDrawing,
    InvalidImage,
    load_image,
    predict,
    preprocess_canvas,
    preprocess_image,
)
from resnet_core.models import resnet18, resnet50
from resnet_core.predictor import Predictor
from tests.conftest import CANVAS, digit_on_canvas


def _stroke_canvas() -> np.ndarray:
    canvas = np.zeros((CANVAS, CANVAS), np.uint8)
    canvas[60:220, 130:150] = 255  # a "1", 160 px tall, off to the left of centre
    canvas[60:80, 110:150] = 255
    return canvas


def test_canvas_digits_are_classified_as_well_as_the_test_set(trained_resnet18, mnist_test):
    images, labels = mnist_test
    idx = stratified_indices(labels, 2000, seed=0)  # the subset the fixture was tested on
    rng = np.random.default_rng(0)
    inputs = []
    for digit in images[idx].numpy():
        size = int(rng.uniform(0.4, 0.9) * CANVAS)
        top, left = rng.integers(0, CANVAS - size + 1, size=2)
        inputs.append(preprocess_canvas(digit_on_canvas(digit, size, top, left)).tensor)
    probabilities = predict(trained_resnet18.model, torch.cat(inputs))
    canvas_accuracy = 100 * (probabilities.argmax(1) == labels[idx]).float().mean().item()
    assert abs(canvas_accuracy - trained_resnet18.test.accuracy) <= 1.0


def test_result_is_mnist_shaped_centred_and_normalised():
    prepared = preprocess_canvas(_stroke_canvas())
    assert prepared.tensor.shape == (1, 1, 28, 28)
    frame = prepared.steps["centred 28x28"].astype(np.float64)
    rows, cols = np.indices(frame.shape)
    assert (rows * frame).sum() / frame.sum() == pytest.approx(14, abs=0.5)
    assert (cols * frame).sum() / frame.sum() == pytest.approx(14, abs=0.5)
    assert max(prepared.steps["scaled to 20 px"].shape) == 20
    assert list(prepared.steps) == ["ink", "cropped", "scaled to 20 px", "centred 28x28"]
    background = prepared.tensor[0, 0, 0, 0].item()
    assert background == pytest.approx(-0.1307 / 0.3081, abs=1e-4)


def test_ink_colour_and_transparency_do_not_change_the_result():
    ink = _stroke_canvas()
    white_on_black = np.dstack([ink, ink, ink, np.full_like(ink, 255)])
    black_on_white = np.dstack([255 - ink] * 3 + [np.full_like(ink, 255)])
    blue_in_alpha = np.dstack([np.zeros_like(ink), np.zeros_like(ink), np.full_like(ink, 255), ink])
    reference = preprocess_canvas(white_on_black).tensor
    for variant in (black_on_white, blue_in_alpha, ink):
        torch.testing.assert_close(preprocess_canvas(variant).tensor, reference)


@pytest.mark.parametrize("canvas", [np.zeros((CANVAS, CANVAS, 4), np.uint8), np.full((50, 50, 3), 255, np.uint8)])
def test_empty_canvas_is_refused(canvas):
    with pytest.raises(EmptyDrawing, match="empty"):
        preprocess_canvas(canvas)


def _encoded(fmt: str, image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "GIF", "BMP"])
def test_uploaded_images_of_each_format_give_the_drawing_result(fmt):
    reference = preprocess_canvas(_stroke_canvas()).tensor
    picture = Image.fromarray(255 - _stroke_canvas()).convert("RGB")  # black ink on white paper
    prepared = preprocess_image(_encoded(fmt, picture))
    assert (prepared.tensor - reference).abs().max() < (0.35 if fmt == "JPEG" else 1e-4)
    assert load_image(_encoded(fmt, picture)).shape == (CANVAS, CANVAS, 4)


def test_broken_uploads_are_refused_with_a_reason():
    with pytest.raises(InvalidImage, match="not a PNG, JPEG, GIF or BMP image: save the digit"):
        load_image(b"%PDF-1.4 definitely not a picture")
    with pytest.raises(InvalidImage, match="empty"):
        load_image(b"")
    png = _encoded("PNG", Image.fromarray(_stroke_canvas()))
    with pytest.raises(InvalidImage, match="damaged or truncated"):
        load_image(png[: len(png) // 2])
    side = int(MAX_IMAGE_PIXELS**0.5) + 1
    with pytest.raises(InvalidImage, match="over the limit"):
        load_image(_encoded("PNG", Image.new("1", (side, side))))
    # A small file whose header claims 182 million pixels: Pillow itself refuses to open it.
    with pytest.raises(InvalidImage, match="far larger than the limit of 16,777,216 pixels: scale it down"):
        load_image(_encoded("PNG", Image.new("1", (13_500, 13_500))))


def test_predict_gives_probabilities_and_leaves_the_mode_alone():
    model = resnet18()
    model.train()
    probabilities = predict(model, torch.randn(3, 1, 28, 28))
    assert probabilities.shape == (3, 10)
    torch.testing.assert_close(probabilities.sum(1), torch.ones(3))
    assert model.training


@pytest.mark.parametrize("builder", [resnet18, resnet50])
def test_predictor_gives_the_models_probabilities_and_leaves_it_alone(builder, trained_resnet18):
    model = trained_resnet18.model if builder is resnet18 else builder().eval()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    x = torch.randn(4, 1, 28, 28)
    fast = Predictor(model)
    torch.testing.assert_close(fast(x), predict(model, x), atol=1e-4, rtol=1e-3)
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in before.items())
    assert next(model.parameters()).is_contiguous()  # the original keeps its layout


def test_building_a_predictor_does_not_disturb_a_model_running_in_another_thread():
    # The app builds predictors in a background thread while pages run models (a torch.fx
    # trace here once broke those with "module is not installed as a submodule").
    model = resnet18().eval()
    errors, done = [], threading.Event()

    def build():
        try:
            while not done.is_set():
                fast = Predictor(model)
                assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in fast.module.modules())
        except Exception as err:  # noqa: BLE001 - reported below
            errors.append(err)

    builder = threading.Thread(target=build)
    builder.start()
    try:
        x = torch.randn(1, 1, 28, 28)
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            model.get_feature_maps(x)
    finally:
        done.set()
        builder.join()
    assert not errors


class _BatchNormAfterReLU(torch.nn.Module):
    # A bn that does not directly follow its conv: folding it into conv1 would be wrong.
    def __init__(self) -> None:
        super().__init__()
        self.conv1 = torch.nn.Conv2d(1, 4, 3)
        self.bn1 = torch.nn.BatchNorm2d(4)
        self.fc = torch.nn.Linear(4, 10)

    def forward(self, x):
        return self.fc(self.bn1(torch.relu(self.conv1(x))).mean((2, 3)))


def test_predictor_keeps_a_model_whose_batchnorm_cannot_be_folded():
    model = _BatchNormAfterReLU()
    with torch.no_grad():  # running statistics far from (0, 1), so a wrong fold shows
        model.bn1.running_mean.fill_(0.5)
        model.bn1.running_var.fill_(4.0)
        model.bn1.bias.fill_(-1.0)
    model.eval()
    x = torch.randn(3, 1, 28, 28)
    torch.testing.assert_close(Predictor(model)(x), predict(model, x), atol=1e-5, rtol=1e-4)


def test_building_a_predictor_leaves_the_random_stream_alone():
    model = resnet18().eval()
    torch.manual_seed(7)
    expected = torch.rand(3)
    torch.manual_seed(7)
    Predictor(model)
    assert torch.equal(torch.rand(3), expected)
