import threading

import pytest
import torch

from resnet_core.features import channel_grid, feature_maps, layer_statistics
from resnet_core.models import resnet18


def test_statistics_rank_channels_and_count_dead_units():
    fmap = torch.zeros(3, 2, 2)
    fmap[1] = 4.0
    fmap[2, 0, 0] = 1.0
    stats = layer_statistics(fmap[None])
    assert stats.shape == (3, 2, 2)
    assert stats.channel_order == [1, 2, 0]
    assert stats.channel_means == pytest.approx([0.0, 4.0, 0.25])
    assert stats.zero_fraction == pytest.approx(7 / 12)
    assert stats.mean == pytest.approx((16 + 1) / 12)


def test_after_relu_blocks_have_no_negative_activations():
    maps = feature_maps(resnet18(stem="small"), torch.randn(2, 1, 28, 28), names=["stem", "layer1.0"])
    assert list(maps) == ["stem", "layer1.0"]
    assert maps["layer1.0"].shape == (2, 64, 28, 28) and maps["layer1.0"].min() >= 0


def test_unknown_layer_is_refused():
    with pytest.raises(ValueError, match="layer5"):
        feature_maps(resnet18(), torch.randn(1, 1, 28, 28), names=["layer5"])


def test_concurrent_captures_on_one_shared_model_keep_their_own_inputs():
    model = resnet18().eval()
    inputs = [torch.randn(1, 1, 28, 28) for _ in range(4)]
    expected = [feature_maps(model, x, names=["layer4"])["layer4"] for x in inputs]
    results = [None] * 4

    def work(i):
        for _ in range(5):
            results[i] = feature_maps(model, inputs[i], names=["layer4"])["layer4"]

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    for got, want in zip(results, expected):
        torch.testing.assert_close(got, want)


def test_channel_grid_tiles_chosen_channels_in_order_with_blank_gaps():
    fmap = torch.zeros(4, 2, 3)
    for c in range(4):
        fmap[c, 0, 0] = c + 1  # each channel's own peak
    fmap[2, 1, 2] = 1.5
    grid = channel_grid(fmap, [3, 2, 0], columns=2)
    assert grid.shape == (2 * 2 + 1, 2 * 3 + 1)
    assert torch.isnan(grid[:, 3]).all() and torch.isnan(grid[2]).all()
    assert grid[0, 0] == 1 and grid[0, 4] == 1  # channels 3 and 2 at full scale
    assert grid[1, 6] == pytest.approx(0.5)  # channel 2's 1.5 over its peak 3
    assert grid[3, 0] == 1  # channel 0 is first on the second row
    assert torch.isnan(grid[3:, 4:]).all()  # the unused slot stays blank
