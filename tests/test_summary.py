import subprocess
import sys

import pytest
import torch
import torchinfo

from resnet_core.networks.layer_tables import (
    compare_architectures,
    layer_table,
    stage_shapes,
    weighted_depth,
    weightless_model,
)
from resnet_core.networks.resnet import ARCHITECTURES, build_model, resnet18
from tests.conftest import REPO
from tests.test_models import EXPECTED_PARAMETERS


@pytest.mark.parametrize("depth", [1, 2, 3])
def test_rows_are_the_layers_torchinfo_reports(depth):
    model = resnet18()
    table = layer_table(model, depth=depth)
    reference = torchinfo.summary(resnet18(), input_size=(1, 1, 28, 28), depth=depth, device="cpu", verbose=0)
    expected = [(layer.class_name, layer.depth) for layer in reference.summary_list if 1 <= layer.depth <= depth]
    assert [(row.type, row.depth) for row in table.rows] == expected
    assert table.total_parameters == 11_175_370 == reference.total_params
    assert table.total_mult_adds == reference.total_mult_adds


def test_each_level_adds_up_to_the_totals():
    table = layer_table(resnet18(), depth=3)
    top = [row for row in table.rows if row.depth == 1]
    assert sum(row.mult_adds for row in top) == table.total_mult_adds
    assert sum(row.parameters for row in top) == table.total_parameters
    blocks = [row for row in table.rows if row.name.startswith("layer2.") and row.depth == 2]
    stage = next(row for row in table.rows if row.name == "layer2")
    assert sum(row.mult_adds for row in blocks) == stage.mult_adds
    conv = next(row for row in table.rows if row.name == "conv1")
    assert conv.output_shape == (1, 64, 14, 14) and conv.mult_adds == 64 * 49 * 14 * 14 and conv.trainable == "yes"
    assert 32e6 < table.total_mult_adds < 34e6  # "about 33M multiply-adds"


def test_the_model_is_not_moved_or_changed():
    model = resnet18().train()
    model.layer1[0].bn1.eval()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    layer_table(model, depth=3)
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in before.items())
    assert model.training and not model.layer1[0].bn1.training and model.layer1[0].training
    assert next(model.parameters()).device.type == "cpu"
    assert all(not m._forward_hooks and not m._forward_pre_hooks for m in model.modules())


def test_frozen_layers_show_as_not_trainable():
    from resnet_core.networks.resnet import freeze

    model = resnet18()
    freeze(model, up_to="layer1")
    table = layer_table(model, depth=1)
    trainable = {row.name: row.trainable for row in table.rows}
    assert trainable["layer1"] == "no" and trainable["layer2"] == "yes" and trainable["relu"] == ""
    assert table.trainable_parameters == table.total_parameters - 3_136 - 128 - 147_968


def test_comparison_has_a_measured_row_per_architecture():
    rows = compare_architectures()
    assert [r.name for r in rows] == list(ARCHITECTURES)
    assert {r.name: r.parameters for r in rows} == EXPECTED_PARAMETERS
    assert [r.depth for r in rows] == [18, 34, 50, 101, 152, 8, 20, 32, 44, 56, 110]
    assert rows[0].size_mb == pytest.approx((11_175_370 + 4_800) * 4 / 1e6, rel=1e-3)
    for family in ("imagenet", "depth"):
        costs = [r.mult_adds for r in compare_architectures(family=family)]
        assert costs == sorted(costs) and len(set(costs)) == len(costs)


@pytest.mark.parametrize(("arch", "stem"), [("resnet18", "imagenet"), ("resnet50", "medium")])
def test_a_weightless_model_gives_the_same_table_as_a_real_one(arch, stem):
    weightless = weightless_model(arch, stem=stem)
    assert all(p.is_meta for p in weightless.parameters())  # nothing allocated, nothing initialised
    assert layer_table(weightless, depth=3) == layer_table(build_model(arch, stem=stem), depth=3)


@pytest.mark.parametrize("arch", ["resnet18", "resnet50"])
def test_stage_shapes_follow_the_stem(arch):
    shapes = stage_shapes(build_model(arch, stem="small"))
    width = 4 if arch == "resnet50" else 1
    assert shapes["layer1"] == (1, 64 * width, 28, 28) and shapes["layer4"] == (1, 512 * width, 4, 4)
    assert weighted_depth(build_model(arch)) == int(arch[6:])


def test_without_torchinfo_the_library_still_trains_and_a_layer_table_says_what_to_install():
    # The GPU machines have torch but not torchinfo; only layer tables need it.
    script = (
        "import sys; sys.modules['torchinfo'] = None\n"
        "import torch\n"
        "from resnet_core import layer_table, resnet18\n"
        "model = resnet18()\n"
        "model(torch.zeros(2, 1, 28, 28)).sum().backward()\n"
        "try:\n"
        "    layer_table(model)\n"
        "except ModuleNotFoundError as error:\n"
        "    print(error)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Layer tables need torchinfo" in result.stdout and "pip install 'torchinfo>=1.8,<1.9'" in result.stdout
