"""One convolution taken apart agrees with torch's own: the starter's first filters on real test digits."""

import pytest
import torch
import torch.nn.functional as F

from resnet_core.data.augment import to_model_input
from resnet_core.files.checkpoints import load_checkpoint
from resnet_core.inside.convolution import (
    feature_map,
    first_filter,
    max_pool,
    model_input,
    output_size,
    pool_window,
    step,
)
from resnet_core.networks.resnet import resnet18
from tests.conftest import REPO


@pytest.fixture(scope="module")
def starter():
    return load_checkpoint(REPO / "assets" / "starter-resnet20.pt")


@pytest.fixture(scope="module")
def digit(mnist_test):
    images, _ = mnist_test
    return model_input(to_model_input(images[:1]))


def test_every_step_sums_to_the_pixel_torchs_convolution_gives(starter, digit):
    flt = first_filter(starter.model, channel=5)
    assert flt.weights.shape == (3, 3) and (flt.stride, flt.padding, flt.channels) == (1, 1, 16)
    whole = feature_map(digit, flt)
    reference = F.conv2d(digit[None, None], starter.model.conv1.weight[5:6].detach(), padding=1)[0, 0]
    assert whole.shape == (28, 28) and torch.allclose(whole, reference, atol=1e-5)
    for row, col in [(0, 0), (13, 14), (27, 27), (5, 20)]:
        taken_apart = step(digit, flt, row, col)
        assert taken_apart.products.shape == (3, 3)
        assert torch.equal(taken_apart.products, taken_apart.patch * flt.weights)
        assert taken_apart.total == pytest.approx(whole[row, col].item(), abs=1e-5)
    corner = step(digit, flt, 0, 0)  # the filter hangs over the edge: padding reads zeros
    assert (corner.top, corner.left) == (-1, -1) and torch.all(corner.patch[0] == 0)


def test_stride_two_and_max_pooling_both_halve_a_map_and_say_where_each_pixel_came_from(starter, digit):
    flt = first_filter(starter.model, channel=0)
    halved = feature_map(digit, flt, stride=2)
    assert halved.shape == (14, 14) == (output_size(28, 3, 2, 1),) * 2
    assert step(digit, flt, 6, 9, stride=2).total == pytest.approx(halved[6, 9].item(), abs=1e-5)
    full = feature_map(digit, flt)
    pooled = max_pool(full)
    assert pooled.shape == (14, 14)
    assert pooled[6, 9].item() == pool_window(full, 6, 9).max().item()
    assert pool_window(full, 6, 9).shape == (2, 2)


def test_a_seven_by_seven_stem_is_taken_apart_the_same_way_and_a_missing_filter_is_named(digit):
    model = resnet18().eval()  # the ImageNet stem: 7×7, stride 2
    flt = first_filter(model, channel=63)
    assert flt.weights.shape == (7, 7) and (flt.stride, flt.padding) == (2, 3)
    whole = feature_map(digit, flt)
    assert whole.shape == (14, 14)
    assert step(digit, flt, 7, 3).total == pytest.approx(whole[7, 3].item(), abs=1e-5)
    with pytest.raises(ValueError, match="Filter 64 does not exist: the first layer has 64"):
        first_filter(model, channel=64)
    with pytest.raises(ValueError, match="outside the map"):
        step(digit, flt, 14, 0)
