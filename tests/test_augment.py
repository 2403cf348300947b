import torch

from resnet_core.data.augment import MNIST_MEAN, MNIST_STD, denormalize, normalize, random_affine, to_model_input


def _dot_image(row: int, col: int, size: int = 28) -> torch.Tensor:
    image = torch.zeros(1, 1, size, size)
    image[0, 0, row - 1 : row + 2, col - 1 : col + 2] = 1.0
    return image


def _centre(image: torch.Tensor) -> torch.Tensor:
    grid = torch.arange(image.shape[-1], dtype=torch.float32)
    mass = image.sum()
    return torch.stack([(image.sum(-1) * grid).sum() / mass, (image.sum(-2) * grid).sum() / mass])


def test_translation_stays_within_ten_percent_and_rotation_moves_off_centre_points():
    generator = torch.Generator().manual_seed(0)
    batch = _dot_image(14, 14).repeat(256, 1, 1, 1)
    moved = random_affine(batch, max_degrees=0.0, max_translate=0.1, generator=generator)
    shifts = torch.stack([_centre(m) for m in moved]) - torch.tensor([14.0, 14.0])
    assert shifts.abs().max() <= 0.1 * 28 + 0.5
    assert shifts.abs().max() > 2.0  # the full range is used

    corner = _dot_image(14, 24).repeat(256, 1, 1, 1)  # 10 px right of the centre
    turned = random_affine(corner, max_degrees=10.0, max_translate=0.0, generator=generator)
    rows = torch.stack([_centre(m) for m in turned])[:, 0]
    # A 10-degree turn moves a point 10 px out by up to 10 * sin(10 deg) = 1.7 px.
    assert rows.std() > 0.3 and (rows - 14).abs().max() <= 2.3


def _square_image(half: int) -> torch.Tensor:
    image = torch.zeros(1, 1, 28, 28)
    image[0, 0, 14 - half : 14 + half, 14 - half : 14 + half] = 1.0
    return image


def test_scaling_zooms_each_image_within_the_range_and_is_off_by_default():
    square = _square_image(5)  # 10 x 10 px, area 100
    batch = square.repeat(256, 1, 1, 1)
    zoomed = random_affine(batch, 0.0, 0.0, generator=torch.Generator().manual_seed(0), max_scale=0.2)
    zooms = (zoomed.sum((1, 2, 3)) / square.sum()).sqrt()  # area grows with the zoom squared
    assert zooms.min() >= 0.8 - 0.03 and zooms.max() <= 1.2 + 0.03
    assert zooms.min() < 0.85 and zooms.max() > 1.15  # the full range is used
    unzoomed = random_affine(batch, 0.0, 0.0, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(unzoomed, batch)


def test_augmentation_keeps_shape_range_and_differs_per_image():
    batch = _dot_image(14, 14).repeat(8, 1, 1, 1)
    out = random_affine(batch, generator=torch.Generator().manual_seed(1))
    assert out.shape == batch.shape and out.min() >= 0 and out.max() <= 1
    assert not torch.allclose(out[0], out[1])


def test_normalisation_uses_mnist_statistics():
    pixels = torch.tensor([[[0, 255]]], dtype=torch.uint8)
    x = to_model_input(pixels)
    assert x.shape == (1, 1, 1, 2)
    torch.testing.assert_close(x.flatten(), torch.tensor([-MNIST_MEAN / MNIST_STD, (1 - MNIST_MEAN) / MNIST_STD]))
    torch.testing.assert_close(normalize(torch.tensor(MNIST_MEAN)), torch.tensor(0.0))


def test_denormalize_gives_back_the_pixels_the_model_was_fed():
    pixels = torch.randint(0, 256, (3, 28, 28), dtype=torch.uint8)
    torch.testing.assert_close(denormalize(to_model_input(pixels)), pixels.unsqueeze(1).float() / 255)
