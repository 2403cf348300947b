import pytest
import torch

from resnet_core.inside.lesion import (
    LesionRefused,
    LesionResult,
    ShortcutOnly,
    lesion_study,
    lesioned,
    mean_accuracy_drop,
    removable_blocks,
)
from resnet_core.networks.resnet import build_model
from resnet_core.training.evaluation import accuracy


def test_lesioning_no_block_changes_nothing(trained_twins, lab):
    model = trained_twins.nets["residual"].eval()
    x = lab.test_images[:64]
    expected = model(x)
    with lesioned(model, []) as same:
        torch.testing.assert_close(same(x), expected)


def test_a_removed_residual_block_passes_its_shortcut_and_the_net_is_restored_after_an_error(trained_twins, lab):
    model = trained_twins.nets["residual"].eval()
    original = model.layer1[0]
    x = lab.test_images[:16]
    expected = model(x)
    with pytest.raises(RuntimeError, match="inside"):
        with lesioned(model, ["layer1.0"]):
            assert isinstance(model.layer1[0], ShortcutOnly)
            _, h = next(model.forward_features(x))  # the stem's map, layer1.0's input
            torch.testing.assert_close(model.layer1[0](h), h)  # ReLU outputs pass an identity shortcut unchanged
            raise RuntimeError("an error inside the block")
    assert model.layer1[0] is original
    torch.testing.assert_close(model(x), expected)


def test_a_plain_block_that_changes_shape_is_refused_before_anything_changes():
    plain = build_model("resnet20", residual=False)
    before = dict(plain.named_modules())
    with pytest.raises(LesionRefused, match="layer2.0 cannot be removed"):
        with lesioned(plain, ["layer1.1", "layer2.0"]):
            pass
    assert dict(plain.named_modules()) == before
    assert "layer2.0" not in removable_blocks(plain) and "layer2.1" in removable_blocks(plain)
    assert len(removable_blocks(build_model("resnet20"))) == 9
    with pytest.raises(ValueError, match="Unknown block"):
        with lesioned(plain, ["layer9.0"]):
            pass


def test_lesion_study_reports_every_block_and_leaves_the_model_alone(trained_twins, lab):
    model = trained_twins.nets["plain"]
    state = {k: v.clone() for k, v in model.state_dict().items()}
    results = lesion_study(model, lab.test_images, lab.test_labels)
    assert [r.removed for r in results] == [(), ("layer1.0",), ("layer2.0",), ("layer3.0",)]
    intact = results[0].accuracy
    assert intact == pytest.approx(accuracy(model.eval(), lab.test_images, lab.test_labels))
    assert results[1].accuracy is not None  # 16 -> 16 channels at 28x28: the identity can stand in
    assert results[2].accuracy is None and "cannot be removed" in results[2].refused
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in state.items())


def test_the_mean_drop_counts_only_the_removals_asked_for_and_leaves_refused_ones_out():
    # ResNet-8's stored lesions: the plain net could lose only layer1.0.
    residual = [LesionResult((), 98.4), LesionResult(("layer1.0",), 10.2), LesionResult(("layer3.0",), 87.8)]
    plain = [LesionResult((), 98.4), LesionResult(("layer1.0",), 11.0), LesionResult(("layer3.0",), None, "size")]
    assert mean_accuracy_drop(residual) == pytest.approx((88.2 + 10.6) / 2)
    assert mean_accuracy_drop(residual, among={("layer1.0",)}) == pytest.approx(88.2)
    assert mean_accuracy_drop(plain) == pytest.approx(87.4)
    assert mean_accuracy_drop(plain, among=set()) is None
