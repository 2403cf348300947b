"""Drawings and pictures -> the 28x28 input MNIST was made of, and the pictures that hold no digit."""

import numpy as np
import pytest
import torch
from PIL import Image

from resnet_core.data.augment import to_model_input
from resnet_core.data.datasets import stratified_indices
from resnet_core.digits.preprocess import (
    SMALL_DIGIT,
    STEP_ASPECT,
    STEP_SIDE,
    EmptyDrawing,
    NoDigitFound,
    preprocess_canvas,
    preprocess_image,
)
from resnet_core.digits.reading import predict
from resnet_core.files.images import InvalidImage
from tests.conftest import CANVAS, digit_on_canvas
from tests.photo_digits import photo_of_paper
from tests.pictures import encoded, stroke_canvas


def test_canvas_digits_are_classified_as_well_as_the_test_set(trained_resnet18, mnist_test):
    """1,000 test digits drawn at random sizes and places on the canvas are read about as well as the
    same 1,000 as MNIST gives them."""
    images, labels = mnist_test
    idx = stratified_indices(labels, 1000, seed=0)
    rng = np.random.default_rng(0)
    inputs = []
    for digit in images[idx].numpy():
        size = int(rng.uniform(0.4, 0.9) * CANVAS)
        top, left = rng.integers(0, CANVAS - size + 1, size=2)
        inputs.append(preprocess_canvas(digit_on_canvas(digit, size, top, left)).tensor)
    model = trained_resnet18.model
    canvas_accuracy = 100 * (predict(model, torch.cat(inputs)).argmax(1) == labels[idx]).float().mean().item()
    as_given = to_model_input(images[idx])
    plain_accuracy = 100 * (predict(model, as_given).argmax(1) == labels[idx]).float().mean().item()
    assert plain_accuracy > 90
    assert abs(canvas_accuracy - plain_accuracy) <= 1.0


def test_result_is_mnist_shaped_centred_and_normalised():
    prepared = preprocess_canvas(stroke_canvas())
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
    ink = stroke_canvas()
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
    ink = stroke_canvas()
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
    canvas = stroke_canvas()
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
    return encoded("JPEG", Image.fromarray(pixels))


def test_noise_and_photos_of_blank_paper_hold_no_digit():
    # Pure noise was once read as "1" at 94%.
    rng = np.random.default_rng(0)
    noise = {
        "colour noise": _jpeg(rng.integers(0, 256, (300, 400, 3), dtype=np.uint8)),
        "grey noise": _jpeg(np.clip(rng.normal(128, 40, (300, 400)), 0, 255).astype(np.uint8)),
        "salt and pepper": encoded(
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
    prepared = preprocess_image(encoded("PNG", Image.fromarray(picture)))
    assert prepared.tensor.shape == (1, 1, 28, 28)
    for name, step in prepared.steps.items():
        short, long = sorted(step.shape)
        assert step.dtype == np.uint8 and step.max() > 0, name
        assert 1 <= short and long <= STEP_SIDE and long <= STEP_ASPECT * short, (name, step.shape)


def test_a_digit_drawn_small_in_a_corner_is_measured_as_small(mnist_test):
    images, _ = mnist_test
    small = preprocess_canvas(digit_on_canvas(images[0], 90, 5, 5))  # a 90 px box; the ink is about 60 px tall
    large = preprocess_canvas(digit_on_canvas(images[0], 260, 10, 10))
    assert small.digit_size < SMALL_DIGIT <= large.digit_size
    assert large.digit_size == pytest.approx(
        (images[0] >= 20).any(dim=1).nonzero().numel() * 260 / 28 / CANVAS, abs=0.06
    )  # the ink's rows, scaled to the canvas
