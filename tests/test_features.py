import threading

import pytest
import torch

from resnet_core.inside.feature_maps import (
    channel_grid,
    feature_layer_names,
    feature_maps,
    layer_statistics,
    stage_output_name,
)
from resnet_core.networks.resnet import resnet18, resnet50


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
    assert (stats.low, stats.high) == (0.0, 4.0)  # the layer's one colour scale


def test_after_relu_blocks_have_no_negative_activations():
    maps = feature_maps(resnet18(stem="small"), torch.randn(2, 1, 28, 28), names=["stem", "layer1.0"])
    assert list(maps) == ["stem", "layer1.0"]
    assert maps["layer1.0"].shape == (2, 64, 28, 28) and maps["layer1.0"].min() >= 0


def test_each_map_is_what_the_network_computes_there():
    model = resnet50().eval()
    x = torch.randn(2, 1, 28, 28)
    maps = feature_maps(model, x)
    with torch.no_grad():
        stem = model.maxpool(model.relu(model.bn1(model.conv1(x))))
        stage1 = model.layer1(stem)
        logits = model.fc(torch.flatten(model.avgpool(model.layer4(model.layer3(model.layer2(stage1)))), 1))
    torch.testing.assert_close(maps["stem"], stem)
    torch.testing.assert_close(maps[stage_output_name(model, "layer1")], stage1)
    final = maps[stage_output_name(model, "layer4")]
    torch.testing.assert_close(model.fc(torch.flatten(model.avgpool(final), 1)).detach(), logits)
    assert len(maps) == 1 + 3 + 4 + 6 + 3 and all(m.device.type == "cpu" for m in maps.values())


def test_a_stage_has_no_entry_of_its_own():
    model = resnet18()
    assert "layer1" not in feature_layer_names(model) and stage_output_name(model, "layer1") == "layer1.1"
    with pytest.raises(ValueError, match="layer5"):
        feature_maps(model, torch.randn(1, 1, 28, 28), names=["layer5"])


def test_a_model_in_training_mode_is_neither_switched_nor_changed():
    model = resnet18().train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    x = torch.randn(1, 1, 28, 28)
    maps = feature_maps(model, x, names=["layer4.1"])
    assert model.training
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in before.items())  # BN statistics too
    torch.testing.assert_close(maps["layer4.1"], feature_maps(model.eval(), x, names=["layer4.1"])["layer4.1"])


def test_concurrent_captures_on_one_shared_model_keep_their_own_inputs():
    model = resnet18().eval()
    inputs = [torch.randn(1, 1, 28, 28) for _ in range(4)]
    expected = [feature_maps(model, x, names=["layer4.1"])["layer4.1"] for x in inputs]
    results = [None] * 4

    def work(i):
        for _ in range(5):
            results[i] = feature_maps(model, inputs[i], names=["layer4.1"])["layer4.1"]

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
