import io

import numpy as np
import pytest
import torch
from PIL import Image, ImageOps

from resnet_core.data.augment import normalize
from resnet_core.data.datasets import stratified_indices
from resnet_core.digits.background import ink_intensity
from resnet_core.digits.preprocess import preprocess_image
from resnet_core.digits.reading import predict
from tests.photo_digits import ORIENTATION_TAG, STORED_TURN, photo_of_digit, photo_of_paper


def test_photos_of_digits_are_read_about_as_well_as_the_digits_themselves(trained_resnet18, mnist_test):
    # Before the paper's local brightness was taken away, 3 photos in 40 were read right.
    images, labels = mnist_test
    idx = stratified_indices(labels, 300, seed=0)
    rng = np.random.default_rng(0)
    photos = torch.cat([preprocess_image(photo_of_digit(digit, rng)).tensor for digit in images[idx].numpy()])
    plain = normalize(images[idx].float()[:, None] / 255)
    model = trained_resnet18.model
    photo_accuracy = 100 * (predict(model, photos).argmax(1) == labels[idx]).float().mean().item()
    plain_accuracy = 100 * (predict(model, plain).argmax(1) == labels[idx]).float().mean().item()
    assert abs(photo_accuracy - plain_accuracy) <= 2.0, (photo_accuracy, plain_accuracy)


def _corner_mark() -> np.ndarray:
    # A mark like a Greek gamma: its ink leans to the top left, so every turn of it shows.
    mark = np.zeros((28, 28), np.uint8)
    mark[4:9, 4:24] = 255
    mark[4:24, 4:9] = 255
    return mark


def test_a_photo_is_a_jpeg_that_a_viewer_honouring_exif_shows_upright():
    seen = set()
    for seed in range(12):
        data = photo_of_digit(_corner_mark(), np.random.default_rng(seed))
        stored = Image.open(io.BytesIO(data))
        assert stored.format == "JPEG" and 240 <= min(stored.size) and max(stored.size) <= 480
        seen.add(stored.getexif()[ORIENTATION_TAG])
        ink = ink_intensity(np.asarray(ImageOps.exif_transpose(stored)))
        rows, cols = np.nonzero(ink > ink.max() / 2)
        # Upright, the ink's mass sits above and left of the middle of its box.
        assert rows.mean() < (rows.min() + rows.max()) / 2 and cols.mean() < (cols.min() + cols.max()) / 2, seed
    assert seen == set(STORED_TURN)


def test_blank_paper_is_lit_unevenly():
    grey = np.asarray(Image.open(io.BytesIO(photo_of_paper(np.random.default_rng(0)))).convert("L"), np.float32)
    assert grey.shape in ((360, 300), (300, 360))
    assert np.percentile(grey, 95) - np.percentile(grey, 5) > 20  # light falls off across the page


def test_only_an_mnist_digit_can_be_photographed():
    with pytest.raises(ValueError, match=r"Expected an MNIST digit of shape \(28, 28\) uint8, got \(28, 28\) float32"):
        photo_of_digit(np.zeros((28, 28), np.float32), np.random.default_rng(0))
