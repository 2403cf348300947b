"""Uploaded picture files: each format, broken and oversized files, 16-bit grey, EXIF orientation."""

import io
import struct
import warnings
import zlib

import numpy as np
import pytest
import torch
from PIL import Image

from resnet_core.data.datasets import stratified_indices
from resnet_core.digits.preprocess import EmptyDrawing, preprocess_canvas, preprocess_image
from resnet_core.digits.reading import predict
from resnet_core.files.images import InvalidImage, load_image
from tests.conftest import CANVAS
from tests.photo_digits import ORIENTATION_TAG, STORED_TURN
from tests.pictures import encoded, stroke_canvas


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "GIF", "BMP"])
def test_uploaded_images_of_each_format_give_the_drawing_result(fmt):
    reference = preprocess_canvas(stroke_canvas()).tensor
    picture = Image.fromarray(255 - stroke_canvas()).convert("RGB")  # black ink on white paper
    prepared = preprocess_image(encoded(fmt, picture))
    assert (prepared.tensor - reference).abs().max() < (0.35 if fmt == "JPEG" else 1e-4)
    assert load_image(encoded(fmt, picture)).shape == (CANVAS, CANVAS, 4)


def test_broken_uploads_are_refused_with_a_reason():
    with pytest.raises(InvalidImage, match="not a PNG, JPEG, GIF or BMP image: save the digit"):
        load_image(b"%PDF-1.4 definitely not a picture")
    with pytest.raises(InvalidImage, match="empty"):
        load_image(b"")
    png = encoded("PNG", Image.fromarray(stroke_canvas()))
    with pytest.raises(InvalidImage, match="damaged or truncated"):
        load_image(png[: len(png) // 2])
    with pytest.raises(EmptyDrawing, match="The picture is blank: there is no digit in it"):
        preprocess_image(encoded("PNG", Image.new("L", (200, 200), 255)))


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
        wide = encoded("PNG", Image.fromarray(paper.astype(np.uint16) * 257))
        assert Image.open(io.BytesIO(wide)).mode == "I;16"
        np.testing.assert_array_equal(load_image(wide), load_image(encoded("PNG", Image.fromarray(paper))))
        eight.append(preprocess_image(encoded("PNG", Image.fromarray(paper))).tensor)
        sixteen.append(preprocess_image(wide).tensor)
    torch.testing.assert_close(torch.cat(sixteen), torch.cat(eight))
    answers = predict(trained_resnet18.model, torch.cat(sixteen)).argmax(1)
    assert (answers == labels[idx]).float().mean() >= 0.9


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_the_exif_orientation_turns_the_picture_upright(orientation):
    upright = Image.fromarray(255 - stroke_canvas()).convert("RGB")  # a "1" with a flag: no turn looks the same
    exif = Image.Exif()
    exif[ORIENTATION_TAG] = orientation
    buffer = io.BytesIO()
    upright.transpose(STORED_TURN[orientation]).save(buffer, format="PNG", exif=exif)  # PNG: exact pixels
    np.testing.assert_array_equal(load_image(buffer.getvalue()), load_image(encoded("PNG", upright)))
    torch.testing.assert_close(preprocess_image(buffer.getvalue()).tensor, preprocess_canvas(stroke_canvas()).tensor)
