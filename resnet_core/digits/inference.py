"""Turning a drawing or an uploaded picture into the 28x28 input MNIST was made of, and predicting its digit.

MNIST's recipe (LeCun et al.): crop to the ink, scale the longer side to 20 px
with antialiasing, and place the result in 28x28 so that the ink's centre of
mass sits at the centre. A drawing prepared any other way looks unlike every
training digit, and the model's answer shows it.

Photos need more before that recipe: the paper is neither white nor evenly lit,
and the camera adds noise. The ink is what stands out from the paper's *local*
brightness (a large morphological opening, which keeps the light's gradients and
shadows but not strokes), by more than the noise (a multiple of its median
absolute deviation); specks smaller than a pen could make are dropped. A picture
whose ink is only a dot, or only noise, holds no digit (NoDigitFound).
"""

from __future__ import annotations

import io
import warnings
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageOps, UnidentifiedImageError
from torch import Tensor, nn

from resnet_core.data.augment import normalize
from resnet_core.digits.predictor import Predictor  # noqa: F401 - its old home; import it from here still works
from resnet_core.networks.resnet import for_inference

SIZE = 28
BOX = 20  # MNIST's digits fill a 20x20 box inside the 28x28 frame
# Measured on MNIST's test set: the mass centre averages (13.99, 14.01) in pixel indices.
CENTRE = 14.0
INK_THRESHOLD = 0.1 * 255  # weaker than this is paper, not ink
NOISE_GATE = 4.0  # ink stands out from the paper by this many noise deviations; Gaussian noise does once in 30,000
NOISE_FLOOR = 2.0  # and this many come off all of it: most of the paper's grain goes, strokes barely thin
NOISE_PEAK = 6.0  # with it photo_digits' 28x28 strokes are as bold as the canvas's (mean pixel 30.9 and 30.7)
MAX_IMAGE_PIXELS = 4096 * 4096
WORK_PIXELS = 640 * 640  # larger pictures are shrunk to this first: the digit ends up 20 px tall anyway
OPENING_CELLS = 24, 9  # the background is sampled on a grid of 1/24 of the shorter side, opened over 9x9 cells
SPECK = 0.015  # a mark narrower than this share of the picture's size (sqrt(H*W)) is a speck: 4 px on the canvas
MIN_DIGIT_EXTENT = 0.1  # ink spanning less than this share of the picture's size is a dot, not a digit
MIN_LARGEST_MARK = 0.25  # when the largest mark holds less of the ink than this, the ink is scattered like noise
SURE_PROBABILITY = 0.5  # an answer with less than even odds is "not sure" (see read_digit)
STEP_SIDE = 280  # the longest a step image gets, in pixels
STEP_ASPECT = 4  # and the most elongated: thinner steps are padded with background
IMAGE_FORMATS = ("PNG", "JPEG", "GIF", "BMP")


class EmptyDrawing(ValueError):
    """There is no ink to classify."""


class NoDigitFound(EmptyDrawing):
    """There is ink, but it is a dot or noise, not a digit."""


class InvalidImage(ValueError):
    """The uploaded file (or array) is not an image this project can read."""


# A digit smaller than this share of the canvas, drawn with the Draw page's default 20 px pen on its 280 px
# canvas, is read right much less often: 52 of 60 one-stroke test digits at 100 px, 37 at 80 px, 60 at 140 px.
SMALL_DIGIT = 0.45


@dataclass
class Preprocessed:
    tensor: Tensor  # (1, 1, 28, 28) float, normalised like the training data
    steps: OrderedDict[str, np.ndarray]  # step name -> (H, W) uint8, white ink on black, at most 280 px and 4:1
    # The digit's longer side over the picture's: a digit drawn small with a wide pen is enlarged into thick
    # strokes MNIST never has (below SMALL_DIGIT the starter ResNet-20 reads markedly worse: docs/reliability.md).
    digit_size: float = 1.0


@dataclass(frozen=True)
class Reading:
    """What to tell the user about one prediction: the answer, and whether the model is sure of it."""

    answer: int  # the most probable class
    probability: float  # its probability
    sure: bool  # probability >= SURE_PROBABILITY


def read_digit(probabilities: Tensor | np.ndarray) -> Reading:
    """One picture's class probabilities (num_classes,) -> the answer, flagged "not sure" below SURE_PROBABILITY.

    Measured on 2,000 real test digits with a ResNet-18 trained one epoch on 10,000 digits
    (tests/test_inference.py): 35 of its 1,940 right answers (1.8%) fall below 0.5, and 30
    of its 60 wrong ones. Pictures without a digit never get here: preprocessing raises
    NoDigitFound for them.
    """
    probabilities = torch.as_tensor(probabilities).flatten()
    answer = int(probabilities.argmax())
    probability = float(probabilities[answer])
    return Reading(answer=answer, probability=probability, sure=probability >= SURE_PROBABILITY)


def _pixels(image: np.ndarray) -> np.ndarray:
    # uint8 as it is; bool, and floats in [0, 1] (matplotlib's convention), scaled to 0..255.
    image = np.asarray(image)
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] not in (3, 4)) or min(image.shape[:2]) < 1:
        raise InvalidImage(f"Expected an (H, W), (H, W, 3) or (H, W, 4) image, got shape {image.shape}.")
    if image.dtype == np.uint8:
        return image
    if image.dtype == np.bool_:
        return image.astype(np.uint8) * 255
    if np.issubdtype(image.dtype, np.floating):
        if not np.isfinite(image).all():
            raise InvalidImage("The image has NaN or infinite pixels: give every pixel a value between 0 and 1.")
        if image.min() < 0 or image.max() > 1:
            raise InvalidImage(
                f"Float pixels must lie between 0 and 1, these run from {image.min():g} to {image.max():g}: "
                "divide by 255, or pass uint8 pixels."
            )
        return np.rint(image * 255).astype(np.uint8)
    if not np.issubdtype(image.dtype, np.integer):
        raise InvalidImage(f"Pixels must be numbers, uint8 (0..255) or float (0..1), not {image.dtype}.")
    if image.min() < 0 or image.max() > 255:
        raise InvalidImage(
            f"Integer pixels must lie between 0 and 255, these run from {image.min()} to {image.max()}: "
            "scale them to 8 bits."
        )
    return image.astype(np.uint8)


def _grey(image: np.ndarray) -> np.ndarray:
    """(H, W[, 3 or 4]) pixels -> (H, W) float32 grey levels 0..255, as a viewer shows them (or the alpha)."""
    pixels = _pixels(image).astype(np.float32)
    grey = pixels if pixels.ndim == 2 else pixels[..., :3] @ np.array([0.299, 0.587, 0.114], np.float32)
    if pixels.ndim == 3 and pixels.shape[2] == 4 and pixels[..., 3].min() < 255:
        alpha = pixels[..., 3] / 255
        visible = grey[alpha >= alpha.max() / 2]  # the more opaque pixels, whose colour rounding has not spoilt
        if alpha.max() == 0 or np.ptp(visible) < INK_THRESHOLD:
            # A drawing on a transparent canvas: its one colour says nothing, where it is opaque is the ink.
            return pixels[..., 3]
        grey = grey * alpha + 255 * (1 - alpha)  # a picture with see-through parts, seen on white as viewers show it
    return grey


def _ink_side_up(grey: np.ndarray) -> np.ndarray:
    """(H, W) grey levels -> the same with the ink light and the paper dark."""
    # The paper is most of the picture, so the median is paper. Ink on light paper is dark (a page's
    # lit patches are not ink); on dark paper it is the side that reaches farther from the paper.
    median = float(np.median(grey))
    low, high = np.percentile(grey, [0.5, 99.5])
    dark_ink = median > 127.5 or median - low > high - median
    return 255 - grey if dark_ink else grey


def _shrink(grey: np.ndarray) -> np.ndarray:
    h, w = grey.shape
    if h * w <= WORK_PIXELS:
        return grey
    factor = (WORK_PIXELS / (h * w)) ** 0.5
    size = max(1, round(h * factor)), max(1, round(w * factor))
    return F.interpolate(torch.from_numpy(grey)[None, None], size=size, mode="area")[0, 0].numpy()


def _local_background(grey: np.ndarray) -> np.ndarray:
    """(H, W) float32, ink light -> the paper's brightness under it: the strokes opened away, the light's shape kept.

    A grey-level opening (a minimum, then a maximum, over a window 3/8 of the picture's
    shorter side) removes anything narrower than the window, which strokes are, and keeps
    gradients and broad shadows. It runs on a coarse grid (each cell's lower quartile, which
    a cell only partly covered by ink still gives as paper) and is smoothed back up. The grid
    is extended past the edges by odd reflection, so that light falling off towards an edge
    carries on falling instead of being cut flat by the window.
    """
    h, w = grey.shape
    per_side, window = OPENING_CELLS
    cell = max(1, min(h, w) // per_side)
    padded = np.pad(grey, ((0, -h % cell), (0, -w % cell)), mode="edge")
    rows, cols = padded.shape[0] // cell, padded.shape[1] // cell
    cells = padded.reshape(rows, cell, cols, cell).transpose(0, 2, 1, 3).reshape(rows, cols, cell * cell)
    quartile = np.partition(cells, cell * cell // 4, axis=2)[..., cell * cell // 4]
    # Cells per side that the minimum and the maximum (half a window each) and the 3x3 smoothing use up,
    # and one more to upsample the edge from.
    margin = (window - 1) + 1 + 1
    coarse = torch.from_numpy(_extend(quartile, margin))[None, None]
    opened = F.max_pool2d(-F.max_pool2d(-coarse, window, stride=1), window, stride=1)
    smooth = F.avg_pool2d(opened, 3, stride=1)  # (rows + 2, cols + 2): a cell beyond each edge
    full = F.interpolate(smooth, scale_factor=cell, mode="bilinear", align_corners=False)
    return full[0, 0, cell : cell + h, cell : cell + w].numpy()


def _extend(grid: np.ndarray, margin: int) -> np.ndarray:
    # Odd reflection, so that a ramp carries on, as far as the grid reaches; past that, the edge's value.
    # Never below the grid's minimum: odd reflection turns ink near an edge into a deep pit beyond it,
    # which an opening would keep.
    reach = [min(margin, n - 1) for n in grid.shape]
    extended = np.pad(grid, [(r, r) for r in reach], mode="reflect", reflect_type="odd")
    extended = np.pad(extended, [(margin - r, margin - r) for r in reach], mode="edge")
    return np.maximum(extended, grid.min())


def _ink_and_noise(grey: np.ndarray) -> tuple[np.ndarray, float]:
    # The opening sits a little under the paper (a quartile, a minimum); the paper's own median is the zero.
    residual = grey - _local_background(grey)
    residual -= np.median(residual)
    noise = 1.4826 * float(np.median(np.abs(residual)))  # the MAD: the ink, a minority of pixels, barely moves it
    return np.clip(residual, 0, 255), noise


def ink_intensity(image: np.ndarray) -> np.ndarray:
    """(H, W), (H, W, 3) or (H, W, 4) pixels -> (H, W) float32 ink in [0, 255], paper ~0.

    The ink is what differs from the paper, light on dark or dark on light, measured from the
    paper's local brightness so that uneven light and shadows are not ink. Transparency is the
    ink when the visible pixels are all one colour (a drawing on a transparent canvas);
    otherwise the picture is seen on white. uint8 pixels, or floats in [0, 1].
    """
    return _ink_and_noise(_ink_side_up(_grey(image)))[0]


def _marks(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(H, W) bool -> each pixel's mark (8-connected part), -1 off the mask, and each mark's area in pixels."""
    h, w = mask.shape
    ys, xs = np.nonzero(mask)
    n = len(ys)
    index = np.full((h + 2, w + 2), n)  # n: no pixel there
    index[ys + 1, xs + 1] = np.arange(n)
    neighbours = [index[ys + 1 + dy, xs + 1 + dx] for dy in (-1, 0, 1) for dx in (-1, 0, 1) if dy or dx]
    label = np.arange(n + 1)
    while True:  # each mark takes its smallest pixel number: hook onto the smallest neighbour, then follow the links
        hooked = label.copy()
        for neighbour in neighbours:
            np.minimum(hooked[:n], label[neighbour], out=hooked[:n])
        while not np.array_equal(hooked[hooked], hooked):
            hooked = hooked[hooked]
        if np.array_equal(hooked, label):
            break
        label = hooked
    _, marks, areas = np.unique(label[:n], return_inverse=True, return_counts=True)
    numbered = np.full((h, w), -1, np.int64)
    numbered[ys, xs] = marks
    return numbered, areas


def _find_digit(strong: np.ndarray) -> np.ndarray:
    """(H, W) bool, the ink that stands out from the noise -> (H, W) bool, the marks that make the digit.

    Specks are dropped. Raises NoDigitFound when nothing is left, when what is left is
    scattered like noise, or when it spans too little of the picture to be a digit.
    """
    size = (strong.shape[0] * strong.shape[1]) ** 0.5
    marks, areas = _marks(strong)
    kept = areas >= (SPECK * size) ** 2
    if not kept.any():
        raise NoDigitFound(
            "No digit found: there are only specks, no stronger than the paper's grain or the camera's noise. "
            "Write the digit darker and larger, or photograph it in better light."
        )
    if areas[kept].max() < MIN_LARGEST_MARK * areas[kept].sum():
        raise NoDigitFound(
            f"No digit found: the ink is {kept.sum()} small marks scattered over the picture, like noise. "
            "Upload a picture of one digit on plain paper."
        )
    digit = (marks >= 0) & kept[np.maximum(marks, 0)]
    rows, cols = np.flatnonzero(digit.any(axis=1)), np.flatnonzero(digit.any(axis=0))
    extent = max(rows[-1] - rows[0], cols[-1] - cols[0]) + 1
    if extent < MIN_DIGIT_EXTENT * size:
        raise NoDigitFound(
            f"No digit found: the only mark is {extent} px across, too small for a digit in a picture this size "
            "(a dot?). Draw the digit larger, or crop the picture closer to it."
        )
    return digit


def _to_uint8(a: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(a), 0, 255).astype(np.uint8)


def _step_image(a: np.ndarray) -> np.ndarray:
    """(H, W) -> (H', W') uint8 an image widget can show: at most STEP_SIDE px and STEP_ASPECT:1, at least 1x1."""
    h, w = a.shape
    if max(h, w) > STEP_SIDE:
        size = max(1, round(h * STEP_SIDE / max(h, w))), max(1, round(w * STEP_SIDE / max(h, w)))
        a = F.interpolate(torch.from_numpy(a.astype(np.float32))[None, None], size=size, mode="area")[0, 0].numpy()
        h, w = a.shape
    pad_h, pad_w = max(0, -(-w // STEP_ASPECT) - h), max(0, -(-h // STEP_ASPECT) - w)
    a = np.pad(a, ((pad_h // 2, pad_h - pad_h // 2), (pad_w // 2, pad_w - pad_w // 2)))
    return _to_uint8(a)


def _centre_of_mass(img: np.ndarray) -> tuple[float, float]:
    total = img.sum()
    rows, cols = np.indices(img.shape)
    return float((rows * img).sum() / total), float((cols * img).sum() / total)


def _paste(frame: np.ndarray, patch: np.ndarray, top: int, left: int) -> None:
    # Clipped at the frame's edges: what falls outside is dropped, nothing wraps round.
    h, w = patch.shape
    t0, l0 = max(top, 0), max(left, 0)
    t1, l1 = min(top + h, frame.shape[0]), min(left + w, frame.shape[1])
    if t0 < t1 and l0 < l1:
        frame[t0:t1, l0:l1] = patch[t0 - top : t1 - top, l0 - left : l1 - left]


def preprocess_canvas(image: np.ndarray) -> Preprocessed:
    """A drawing or photo (H, W, 4) RGBA (or RGB, or grey), uint8 or float in [0, 1] -> the model's
    (1, 1, 28, 28) input, with each step.

    Raises EmptyDrawing when nothing is drawn, NoDigitFound (an EmptyDrawing) when the ink is
    a dot or noise, InvalidImage for an array that is not an image.
    """
    grey = _ink_side_up(_shrink(_grey(image)))
    ink, noise = _ink_and_noise(grey)
    if ink.max() < INK_THRESHOLD:
        raise EmptyDrawing("The canvas is empty: draw a digit, then try again.")
    strong = ink >= max(INK_THRESHOLD, NOISE_GATE * noise)
    digit = _find_digit(strong)
    ink = np.where(strong & ~digit, 0, np.maximum(ink - NOISE_FLOOR * noise, 0))  # specks out, and the paper's grain
    # Full strength, which faint pencil gets as much as bold marker, is the brightest ink less the noise's lift:
    # the brightest of thousands of stroke pixels sits several deviations above the stroke.
    full = max(ink.max() - NOISE_PEAK * noise, ink.max() / 2)
    ink = np.minimum(ink * (255.0 / full), 255)
    rows, cols = np.flatnonzero(digit.any(axis=1)), np.flatnonzero(digit.any(axis=0))
    cropped = ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]

    h, w = cropped.shape
    scale = BOX / max(h, w)
    new_h, new_w = max(1, round(h * scale)), max(1, round(w * scale))
    scaled = (
        F.interpolate(
            torch.from_numpy(np.ascontiguousarray(cropped, np.float32))[None, None],
            size=(new_h, new_w),
            mode="bilinear",
            antialias=True,
            align_corners=False,
        )[0, 0]
        .clamp_(0, 255)
        .numpy()
    )

    frame = np.zeros((SIZE, SIZE), np.float32)
    com_row, com_col = _centre_of_mass(scaled)
    _paste(frame, scaled, round(CENTRE - com_row), round(CENTRE - com_col))

    tensor = normalize(torch.from_numpy(frame / 255.0).float())[None, None]
    steps = OrderedDict(
        [
            ("picture", _step_image(grey)),
            ("ink", _step_image(ink)),
            ("cropped", _step_image(cropped)),
            ("scaled to 20 px", _step_image(scaled)),
            ("centred 28x28", _to_uint8(frame)),
        ]
    )
    return Preprocessed(tensor=tensor, steps=steps, digit_size=max(h, w) / max(grey.shape))


def load_image(data: bytes) -> np.ndarray:
    """An uploaded PNG/JPEG/GIF/BMP file's bytes -> (H, W, 4) uint8 RGBA, upright as its EXIF says.

    16-bit greys are scaled to 8 bits. Raises InvalidImage, also for more than MAX_IMAGE_PIXELS.
    """
    if not data:
        raise InvalidImage("The file is empty.")
    try:
        # Pillow warns above 89 million pixels and refuses above 179 million; this limit is lower, and
        # says what to do. (catch_warnings is process-wide: another thread's bomb warning is lost meanwhile.)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            picture = Image.open(io.BytesIO(data), formats=IMAGE_FORMATS)
    except Image.DecompressionBombError:
        raise InvalidImage(_too_large("far larger than")) from None
    except (UnidentifiedImageError, OSError, ValueError):
        formats = f"{', '.join(IMAGE_FORMATS[:-1])} or {IMAGE_FORMATS[-1]}"
        raise InvalidImage(f"This file is not a {formats} image: save the digit in one of those formats.") from None
    width, height = picture.size
    if width * height > MAX_IMAGE_PIXELS:
        raise InvalidImage(_too_large(f"{width}x{height} pixels, over"))
    try:
        picture.load()
        picture = ImageOps.exif_transpose(picture)
    except Image.DecompressionBombError:
        raise InvalidImage(_too_large("far larger than")) from None
    except (OSError, ValueError, SyntaxError, KeyError, TypeError):
        raise InvalidImage("The image file is damaged or truncated: save it again and retry.") from None
    if picture.mode.startswith("I"):  # 16-bit grey (Pillow's "I;16" or "I"): 0..65535 -> 0..255
        grey = np.clip(np.rint(np.asarray(picture, np.float64) / 257), 0, 255).astype(np.uint8)
        return np.dstack([grey, grey, grey, np.full_like(grey, 255)])
    return np.asarray(picture.convert("RGBA"))


def _too_large(how: str) -> str:
    return f"The image is {how} the limit of {MAX_IMAGE_PIXELS:,} pixels: scale it down or crop it to the digit."


def preprocess_image(data: bytes) -> Preprocessed:
    """An uploaded image file -> the model's input, by the same steps as a drawing.

    Raises InvalidImage, EmptyDrawing for a blank picture, NoDigitFound for a dot or noise.
    """
    try:
        return preprocess_canvas(load_image(data))
    except NoDigitFound:
        raise
    except EmptyDrawing:
        raise EmptyDrawing("The picture is blank: there is no digit in it to read.") from None


def predict(model: nn.Module, x: Tensor) -> Tensor:
    """Class probabilities (N, num_classes) on the CPU for input (N, 1, 28, 28) on any device.

    The model is not changed: one in training mode is run as an eval-mode copy.
    """
    model = for_inference(model)
    with torch.inference_mode():
        logits = model(x.to(next(model.parameters()).device))
    return torch.softmax(logits.float(), dim=1).cpu()
