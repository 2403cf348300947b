import io
import struct
import threading
import time
import warnings
import zlib

import numpy as np
import pytest
import torch
from PIL import Image

from resnet_core.data.augment import normalize
from resnet_core.data.datasets import stratified_indices
from resnet_core.digits.inference import (
    SMALL_DIGIT,
    STEP_ASPECT,
    STEP_SIDE,
    SURE_PROBABILITY,
    EmptyDrawing,
    InvalidImage,
    NoDigitFound,
    load_image,
    predict,
    preprocess_canvas,
    preprocess_image,
    read_digit,
)
from resnet_core.digits.predictor import Predictor
from resnet_core.networks.resnet import resnet18, resnet50
from tests.conftest import CANVAS, digit_on_canvas
from tests.photo_digits import ORIENTATION_TAG, STORED_TURN, photo_of_paper


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
    assert list(prepared.steps) == ["picture", "ink", "cropped", "scaled to 20 px", "centred 28x28"]
    background = prepared.tensor[0, 0, 0, 0].item()
    assert background == pytest.approx(-0.1307 / 0.3081, abs=1e-4)


def test_ink_colour_and_transparency_do_not_change_the_result():
    ink = _stroke_canvas()
    white_on_black = np.dstack([ink, ink, ink, np.full_like(ink, 255)])
    black_on_white = np.dstack([255 - ink] * 3 + [np.full_like(ink, 255)])
    blue_in_alpha = np.dstack([np.zeros_like(ink), np.zeros_like(ink), np.full_like(ink, 255), ink])
    # Drawings on a transparent canvas whose clear pixels hold another colour than the strokes.
    black_on_clear_white = np.dstack([255 - ink] * 3 + [ink])
    white_on_clear_black = np.dstack([ink] * 3 + [ink])
    reference = preprocess_canvas(white_on_black).tensor
    for variant in (black_on_white, blue_in_alpha, black_on_clear_white, white_on_clear_black, ink):
        torch.testing.assert_close(preprocess_canvas(variant).tensor, reference)


def test_a_see_through_picture_is_seen_on_white_not_read_as_solid_ink():
    # Once "any transparency is the ink": a half-transparent scan became one solid block.
    ink = _stroke_canvas()
    opaque = np.dstack([255 - ink] * 3 + [np.full_like(ink, 255)])
    half_transparent = opaque.copy()
    half_transparent[..., 3] = 128
    clear_paper = opaque.copy()
    clear_paper[..., 3] = np.where(ink > 0, 255, 60)
    reference = preprocess_canvas(opaque)
    for variant in (half_transparent, clear_paper):
        prepared = preprocess_canvas(variant)
        assert prepared.steps["cropped"].shape == reference.steps["cropped"].shape == (160, 40)
        torch.testing.assert_close(prepared.tensor, reference.tensor, atol=1e-4, rtol=0)


@pytest.mark.parametrize("canvas", [np.zeros((CANVAS, CANVAS, 4), np.uint8), np.full((50, 50, 3), 255, np.uint8)])
def test_empty_canvas_is_refused(canvas):
    with pytest.raises(EmptyDrawing, match="empty"):
        preprocess_canvas(canvas)


def test_float_pixels_from_0_to_1_are_read_and_nan_or_0_to_255_refused():
    canvas = _stroke_canvas()
    reference = preprocess_canvas(canvas).tensor
    torch.testing.assert_close(preprocess_canvas(canvas.astype(np.float32) / 255).tensor, reference)
    for bad in (np.nan, np.inf):
        broken = canvas.astype(np.float32) / 255
        broken[100, 140] = bad  # once an IndexError from an empty crop
        with pytest.raises(InvalidImage, match="NaN or infinite pixels: give every pixel a value between 0 and 1"):
            preprocess_canvas(broken)
    with pytest.raises(InvalidImage, match="between 0 and 1, these run from 0 to 255: divide by 255"):
        preprocess_canvas(canvas.astype(np.float32))
    with pytest.raises(InvalidImage, match="between 0 and 255, these run from 0 to 1020: scale them to 8 bits"):
        preprocess_canvas(canvas.astype(np.int32) * 4)


def _dot_canvas(diameter: int) -> np.ndarray:
    rows, cols = np.indices((CANVAS, CANVAS))
    dot = (rows - 140) ** 2 + (cols - 100) ** 2 <= (diameter / 2) ** 2
    return np.dstack([dot * 255] * 3 + [np.full((CANVAS, CANVAS), 255)]).astype(np.uint8)


@pytest.mark.parametrize("diameter", [6, 10, 24])
def test_a_dot_is_no_digit(diameter):
    with pytest.raises(NoDigitFound, match="too small for a digit in a picture this size .a dot.."):
        preprocess_canvas(_dot_canvas(diameter))


def test_a_small_real_digit_on_the_canvas_is_a_digit(mnist_test):
    images, labels = mnist_test
    for index in stratified_indices(labels, 20, seed=0).tolist():
        prepared = preprocess_canvas(digit_on_canvas(images[index], 56, 112, 112))  # the digit ~40 px tall
        assert 34 <= prepared.steps["cropped"].shape[0] <= 42


def _jpeg(pixels: np.ndarray) -> bytes:
    return _encoded("JPEG", Image.fromarray(pixels))


def test_noise_and_photos_of_blank_paper_hold_no_digit():
    # Pure noise was once read as "1" at 94%.
    rng = np.random.default_rng(0)
    noise = {
        "colour noise": _jpeg(rng.integers(0, 256, (300, 400, 3), dtype=np.uint8)),
        "grey noise": _jpeg(np.clip(rng.normal(128, 40, (300, 400)), 0, 255).astype(np.uint8)),
        "salt and pepper": _encoded(
            "PNG", Image.fromarray(np.where(rng.random((300, 400)) < 0.05, 0, 230).astype(np.uint8))
        ),
    }
    for data in noise.values():
        with pytest.raises(NoDigitFound, match="No digit found: there are only specks"):
            preprocess_image(data)
    for seed in range(10):  # uneven light, shadows, grain and JPEG, and no digit
        with pytest.raises(EmptyDrawing, match="The picture is blank|No digit found"):
            preprocess_image(photo_of_paper(np.random.default_rng(seed)))


def test_ink_scattered_over_the_picture_is_no_digit():
    page = np.full((300, 300), 255, np.uint8)
    rng = np.random.default_rng(0)
    for top, left in rng.integers(10, 280, size=(40, 2)):
        page[top : top + 8, left : left + 8] = 0  # forty 8x8 blots: each bigger than a speck
    with pytest.raises(NoDigitFound, match="small marks scattered over the picture, like noise"):
        preprocess_canvas(page)


@pytest.mark.parametrize(
    ("shape", "line"),
    [((3, 10_000), np.s_[1, 4000:6000]), ((10_000, 3), np.s_[2000:8000, 1]), ((200, 14), np.s_[5:195, 4:10])],
)
def test_every_step_of_a_very_long_or_thin_picture_can_be_shown(shape, line):
    # A 10000x3 picture once gave 3-pixel-high steps that the app could not scale to 120 px wide.
    picture = np.full(shape, 255, np.uint8)
    picture[line] = 0
    prepared = preprocess_image(_encoded("PNG", Image.fromarray(picture)))
    assert prepared.tensor.shape == (1, 1, 28, 28)
    for name, step in prepared.steps.items():
        short, long = sorted(step.shape)
        assert step.dtype == np.uint8 and step.max() > 0, name
        assert 1 <= short and long <= STEP_SIDE and long <= STEP_ASPECT * short, (name, step.shape)


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
    with pytest.raises(EmptyDrawing, match="The picture is blank: there is no digit in it"):
        preprocess_image(_encoded("PNG", Image.new("L", (200, 200), 255)))


def _black_png(width: int, height: int) -> bytes:
    """A complete 1-bit black PNG, written row by row: zlib squeezes it to about a thousandth of its pixels."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    row = bytes(1 + (width + 7) // 8)  # the filter byte, then eight pixels a byte
    squeeze = zlib.compressobj(9)
    rows = b"".join(squeeze.compress(row * min(1000, height - done)) for done in range(0, height, 1000))
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows + squeeze.flush()) + chunk(b"IEND", b"")


@pytest.mark.parametrize(
    ("width", "height", "message"),
    [
        (30_000, 30_000, "far larger than the limit of 16,777,216 pixels: scale it down"),  # Pillow refuses it
        (10_000, 10_000, "10000x10000 pixels, over the limit of 16,777,216 pixels"),  # Pillow warns
        (4097, 4096, "4097x4096 pixels, over the limit of 16,777,216 pixels: scale it down or crop"),
    ],
)
def test_pictures_of_too_many_pixels_are_refused_without_a_warning(width, height, message):
    data = _black_png(width, height)
    assert len(data) < 120_000  # the 30000x30000 one is the 109 KB upload that once gave a traceback
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a DecompressionBombWarning would escape as this error
        for read in (load_image, preprocess_image):
            with pytest.raises(InvalidImage, match=message):
                read(data)


def test_a_16_bit_grey_png_reads_like_the_8_bit_one(trained_resnet18, mnist_test):
    # Once read as an empty canvas: converting 16-bit grey to RGBA clips it to white.
    images, labels = mnist_test
    idx = stratified_indices(labels, 20, seed=0)
    eight, sixteen = [], []
    for digit in images[idx].numpy():
        paper = 255 - digit  # black ink on white paper
        wide = _encoded("PNG", Image.fromarray(paper.astype(np.uint16) * 257))
        assert Image.open(io.BytesIO(wide)).mode == "I;16"
        np.testing.assert_array_equal(load_image(wide), load_image(_encoded("PNG", Image.fromarray(paper))))
        eight.append(preprocess_image(_encoded("PNG", Image.fromarray(paper))).tensor)
        sixteen.append(preprocess_image(wide).tensor)
    torch.testing.assert_close(torch.cat(sixteen), torch.cat(eight))
    answers = predict(trained_resnet18.model, torch.cat(sixteen)).argmax(1)
    assert (answers == labels[idx]).float().mean() >= 0.9


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_the_exif_orientation_turns_the_picture_upright(orientation):
    upright = Image.fromarray(255 - _stroke_canvas()).convert("RGB")  # a "1" with a flag: no turn looks the same
    exif = Image.Exif()
    exif[ORIENTATION_TAG] = orientation
    buffer = io.BytesIO()
    upright.transpose(STORED_TURN[orientation]).save(buffer, format="PNG", exif=exif)  # PNG: exact pixels
    np.testing.assert_array_equal(load_image(buffer.getvalue()), load_image(_encoded("PNG", upright)))
    torch.testing.assert_close(preprocess_image(buffer.getvalue()).tensor, preprocess_canvas(_stroke_canvas()).tensor)


def test_not_sure_flags_few_right_answers_and_many_wrong_ones(trained_resnet18, mnist_test):
    images, labels = mnist_test
    idx = stratified_indices(labels, 2000, seed=0)  # the subset the fixture was tested on
    probabilities = predict(trained_resnet18.model, normalize(images[idx].float()[:, None] / 255))
    readings = [read_digit(p) for p in probabilities]
    right = np.array([r.answer == label for r, label in zip(readings, labels[idx].tolist())])
    unsure = np.array([not r.sure for r in readings])
    assert unsure[right].mean() < 0.03  # measured: 1.8% of right answers
    assert unsure[~right].mean() > 0.3  # measured: 50% of wrong ones


def test_a_reading_gives_the_answer_and_whether_it_is_sure():
    confident = torch.tensor([0.02] * 9 + [0.82])
    assert read_digit(confident) == read_digit(confident.numpy())
    reading = read_digit(confident)
    assert (reading.answer, reading.sure) == (9, True) and reading.probability == pytest.approx(0.82)
    torn = torch.tensor([0.0, 0.45, 0.0, 0.0, 0.0, 0.0, 0.0, 0.4, 0.15, 0.0])
    assert read_digit(torn).answer == 1 and not read_digit(torn).sure
    assert read_digit(torch.full((10,), 0.1)).probability < SURE_PROBABILITY


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


def test_a_digit_drawn_small_in_a_corner_is_measured_as_small(mnist_test):
    images, _ = mnist_test
    small = preprocess_canvas(digit_on_canvas(images[0], 90, 5, 5))  # a 90 px box; the ink is about 60 px tall
    large = preprocess_canvas(digit_on_canvas(images[0], 260, 10, 10))
    assert small.digit_size < SMALL_DIGIT <= large.digit_size
    assert large.digit_size == pytest.approx(
        (images[0] >= 20).any(dim=1).nonzero().numel() * 260 / 28 / CANVAS, abs=0.06
    )  # the ink's rows, scaled to the canvas
