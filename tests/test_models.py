import pytest
import torch
import torchvision

from resnet_core.inside.feature_maps import feature_layer_names, stage_output_name
from resnet_core.networks.blocks import BasicBlock, Bottleneck
from resnet_core.networks.layer_tables import stage_shapes, weighted_depth
from resnet_core.networks.resnet import (
    ARCHITECTURES,
    DEPTH_FAMILY,
    STEMS,
    build_model,
    count_parameters,
    freeze,
    resnet18,
    resnet50,
)

EXPECTED_PARAMETERS = {
    "resnet18": 11_175_370,
    "resnet34": 21_283_530,
    "resnet50": 23_522_250,
    "resnet101": 42_514_378,
    "resnet152": 58_158_026,
    # The depth family (16/32/64 channels, projection shortcuts, 1 channel in, 10 classes out).
    "resnet8": 77_754,
    "resnet20": 272_186,
    "resnet32": 466_618,
    "resnet44": 661_050,
    "resnet56": 855_482,
    "resnet110": 1_730_426,
}
# Their plain twins lack only the two projections (1x1 conv + BN at 16->32 and 32->64): 2,752 parameters.
PLAIN_PARAMETERS = {"resnet20": 269_434, "resnet56": 852_730, "resnet110": 1_727_674}
EXPECTED_BLOCKS = {
    "resnet18": (BasicBlock, [2, 2, 2, 2]),
    "resnet34": (BasicBlock, [3, 4, 6, 3]),
    "resnet50": (Bottleneck, [3, 4, 6, 3]),
    "resnet101": (Bottleneck, [3, 4, 23, 3]),
    "resnet152": (Bottleneck, [3, 8, 36, 3]),
    **{f"resnet{6 * n + 2}": (BasicBlock, [n, n, n]) for n in (1, 3, 5, 7, 9, 18)},
}


def test_registry_lists_the_five_depths_and_the_depth_family():
    assert list(ARCHITECTURES) == list(EXPECTED_PARAMETERS)
    assert DEPTH_FAMILY == ("resnet8", "resnet20", "resnet32", "resnet44", "resnet56", "resnet110")
    assert all(entry.description for entry in ARCHITECTURES.values())


@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_parameter_count_is_exact(arch):
    assert count_parameters(build_model(arch)) == EXPECTED_PARAMETERS[arch]


@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_stages_use_the_configured_blocks(arch):
    model = build_model(arch)
    block, layers = EXPECTED_BLOCKS[arch]
    assert len(model.stages) == len(layers)
    for stage, count in zip(model.stages, layers):
        blocks = getattr(model, stage)
        assert len(blocks) == count
        assert all(type(b) is block for b in blocks)
    assert model.arch == arch


@pytest.mark.parametrize("arch", PLAIN_PARAMETERS)
def test_plain_twin_has_the_same_layers_without_projections(arch):
    plain = build_model(arch, residual=False)
    assert count_parameters(plain) == PLAIN_PARAMETERS[arch]
    residual_names = {n for n in build_model(arch).state_dict() if "downsample" not in n}
    assert set(plain.state_dict()) == residual_names


def test_depth_family_keeps_28_14_7_maps_and_counts_6n_plus_2_layers():
    model = build_model("resnet20").eval()
    shapes = stage_shapes(model)
    assert (shapes["stem"], shapes["layer1"], shapes["layer2"], shapes["layer3"]) == (
        (1, 16, 28, 28),
        (1, 16, 28, 28),
        (1, 32, 14, 14),
        (1, 64, 7, 7),
    )
    assert weighted_depth(model) == 20 and weighted_depth(build_model("resnet110")) == 110
    assert model(torch.randn(2, 1, 28, 28)).shape == (2, 10)


def test_plain_twin_forward_is_its_layers_chained_by_hand():
    torch.manual_seed(0)
    plain = build_model("resnet8", residual=False).eval()
    x = torch.randn(3, 1, 28, 28)
    h = torch.relu(plain.bn1(plain.conv1(x)))
    for _, block in plain.blocks():
        h = torch.relu(block.bn2(block.conv2(torch.relu(block.bn1(block.conv1(h))))))
    expected = plain.fc(h.mean(dim=(2, 3)))
    torch.testing.assert_close(plain(x), expected)


@pytest.mark.parametrize("builder", [resnet18, resnet50])
def test_loads_torchvision_weights_and_matches_its_output(builder):
    torch.manual_seed(0)
    reference = getattr(torchvision.models, builder.__name__)().eval()
    ours = builder(in_chans=3, num_classes=1000).eval()
    ours.load_state_dict(reference.state_dict(), strict=True)
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(ours(x), reference(x))


@pytest.mark.parametrize(
    "stem, shapes",
    [
        ("imagenet", {"stem": 7, "layer1": 7, "layer2": 4, "layer3": 2, "layer4": 1}),
        ("medium", {"stem": 14, "layer1": 14, "layer2": 7, "layer3": 4, "layer4": 2}),
        ("small", {"stem": 28, "layer1": 28, "layer2": 14, "layer3": 7, "layer4": 4}),
    ],
)
def test_stems_give_the_documented_spatial_sizes(stem, shapes):
    model = resnet18(stem=stem)
    maps = model.get_feature_maps(torch.randn(2, 1, 28, 28))
    assert {
        name: maps[stage_output_name(model, name) if name != "stem" else name].shape[-1] for name in shapes
    } == shapes
    assert STEMS[stem].side == shapes["stem"]  # the size the pages write out is the measured one
    assert model(torch.randn(2, 1, 28, 28)).shape == (2, 10)


def test_projection_shortcut_only_where_shape_changes():
    model = resnet18()
    assert model.layer1[0].downsample is None
    for stage in ("layer2", "layer3", "layer4"):
        assert getattr(model, stage)[0].downsample is not None
        assert getattr(model, stage)[1].downsample is None
    assert resnet50().layer1[0].downsample is not None  # width 64 -> 256


def test_plain_network_has_no_skip_connections():
    torch.manual_seed(0)
    plain = resnet18(residual=False)
    assert all(m.downsample is None and not m.residual for m in plain.modules() if isinstance(m, BasicBlock))
    # The projections' weights are gone: 3 x (1x1 conv + BN).
    projections = sum(p.numel() for n, p in resnet18().named_parameters() if "downsample" in n)
    assert count_parameters(plain) == EXPECTED_PARAMETERS["resnet18"] - projections
    # With the same weights, removing the skips changes what a block computes.
    residual = resnet18()
    residual.load_state_dict(plain.state_dict(), strict=False)
    x = torch.randn(1, 64, 7, 7)
    plain.eval(), residual.eval()
    with torch.no_grad():
        assert not torch.allclose(plain.layer1[0](x), residual.layer1[0](x))


def test_he_initialisation_and_identity_batchnorm():
    model = resnet18()
    conv = model.layer3[0].conv1  # 3x3, 128 -> 256: fan_out = 256 * 9
    expected_std = (2 / (256 * 9)) ** 0.5
    assert conv.weight.std().item() == pytest.approx(expected_std, rel=0.05)
    assert torch.all(model.bn1.weight == 1) and torch.all(model.bn1.bias == 0)


def test_zero_init_residual_zeroes_each_blocks_last_norm():
    model = resnet50(zero_init_residual=True)
    assert all(torch.all(m.bn3.weight == 0) for m in model.modules() if isinstance(m, Bottleneck))
    assert torch.all(resnet18(zero_init_residual=True).layer1[0].bn2.weight == 0)
    # A plain net has no shortcut to carry the signal past a zeroed block.
    with pytest.raises(ValueError, match="zero_init_residual needs the skip connections"):
        resnet18(residual=False, zero_init_residual=True)


def test_feature_maps_cover_the_stem_and_every_block_once():
    model = resnet18()
    maps = model.get_feature_maps(torch.randn(1, 1, 28, 28))
    assert list(maps) == [
        "stem",
        "layer1.0",
        "layer1.1",
        "layer2.0",
        "layer2.1",
        "layer3.0",
        "layer3.1",
        "layer4.0",
        "layer4.1",
    ]
    assert list(maps) == feature_layer_names(model)
    assert maps["layer2.1"].shape == (1, 128, 4, 4)
    assert model.training  # run on an eval-mode copy, the model itself untouched


def test_the_walk_yields_the_stem_then_every_block_or_stage_and_forward_is_its_end_through_the_head():
    torch.manual_seed(0)
    model = resnet50().eval()
    x = torch.randn(2, 1, 28, 28)
    with torch.no_grad():
        walk = list(model.forward_features(x))
        h = model.maxpool(model.relu(model.bn1(model.conv1(x))))
        expected = [("stem", h)]
        for stage in model.stages:
            for i, block in enumerate(model.get_submodule(stage)):
                h = block(h)
                expected.append((f"{stage}.{i}", h))
        assert [name for name, _ in walk] == [name for name, _ in expected] == feature_layer_names(model)
        for (name, got), (_, want) in zip(walk, expected):
            torch.testing.assert_close(got, want, msg=name)
        by_stage = dict(model.forward_features(x, stages=True))
        assert list(by_stage) == ["stem", *model.stages]
        for stage in model.stages:
            torch.testing.assert_close(by_stage[stage], dict(walk)[stage_output_name(model, stage)])
        torch.testing.assert_close(model.final_map(x), h)
        pooled = model.forward_head(h, pre_logits=True)
        assert pooled.shape == (2, 2048)
        torch.testing.assert_close(pooled, h.mean(dim=(2, 3)))
        torch.testing.assert_close(model(x), model.fc(pooled))


def test_a_walk_stopped_early_runs_no_later_block():
    model = resnet18().eval()
    ran = []
    hooks = [block.register_forward_hook(lambda m, i, o, n=name: ran.append(n)) for name, block in model.blocks()]
    try:
        with torch.no_grad():
            for name, _ in model.forward_features(torch.randn(1, 1, 28, 28)):
                if name == "layer2.0":
                    break
    finally:
        for hook in hooks:
            hook.remove()
    assert ran == ["layer1.0", "layer1.1", "layer2.0"]


def test_freeze_stops_gradients_up_to_the_named_stage():
    model = resnet18()
    frozen = freeze(model, up_to="layer2")
    assert "conv1.weight" in frozen and "layer2.1.bn2.bias" in frozen
    assert not any(name.startswith(("layer3", "layer4", "fc")) for name in frozen)
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert trainable and all(n.startswith(("layer3", "layer4", "fc")) for n in trainable)
    with pytest.raises(ValueError, match="up_to must be one of"):
        freeze(model, up_to="layer9")


def test_unknown_names_are_refused_with_the_choices():
    with pytest.raises(ValueError, match="resnet18, resnet34"):
        build_model("resnet19")
    with pytest.raises(ValueError, match="imagenet, medium, small"):
        resnet18(stem="huge")
