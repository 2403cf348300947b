"""Attribution maps on the real starter ResNet-20 and real MNIST test digits."""

import copy

import pytest
import torch
from torch import nn

from resnet_core.data.augment import to_model_input
from resnet_core.files.checkpoints import load_checkpoint
from resnet_core.inside.attribution import (
    grad_cam,
    integrated_gradients,
    map_similarity,
    occlusion,
    randomized_copy,
    saliency,
)
from tests.conftest import REPO


@pytest.fixture(scope="module")
def starter():
    return load_checkpoint(REPO / "assets" / "starter-resnet20.pt").model.eval()


@pytest.fixture(scope="module")
def digits(mnist_test):
    images, labels = mnist_test
    return [(to_model_input(images[i : i + 1]), int(labels[i])) for i in range(8)]


class RightHalfBlanked(nn.Module):
    """Zeroes the right half of a (N, C, H, W) map: whatever comes after it cannot see that half."""

    def forward(self, x):
        x = x.clone()
        x[..., x.shape[-1] // 2 + 1 :] = 0
        return x


def test_grad_cam_agrees_with_captums_layer_grad_cam(starter, digits):
    from captum.attr import LayerAttribution, LayerGradCam

    x, label = digits[0]
    ours = grad_cam(starter, x, label)
    assert list(ours) == ["layer1", "layer2", "layer3"]
    reference = copy.deepcopy(starter)  # Captum hooks the layer: never the shared model
    for stage, cam in ours.items():
        theirs = LayerGradCam(reference, reference.get_submodule(stage)).attribute(
            x, target=label, relu_attributions=True
        )
        theirs = LayerAttribution.interpolate(theirs, (28, 28), interpolate_mode="bilinear")[0, 0]
        assert cam.shape == (28, 28) and torch.isfinite(cam).all()
        torch.testing.assert_close(cam, theirs.detach(), rtol=1e-4, atol=1e-6)
    assert ours["layer3"].max() > 0


def test_a_last_stage_that_sees_only_the_left_half_gets_a_grad_cam_that_is_zero_on_the_right(starter, digits):
    one_eyed = copy.deepcopy(starter)
    one_eyed.layer3 = nn.Sequential(*one_eyed.layer3, RightHalfBlanked())  # 7×7: columns 4-6 blanked
    x, label = digits[0]
    cam = grad_cam(one_eyed, x, label, stages=("layer3",))["layer3"]
    # Upsampled 7 -> 28, columns from 18 on come from the blanked columns only.
    assert cam[:, 18:].abs().max() == 0
    assert cam[:, :14].max() > 0


def test_input_gradients_of_a_net_blind_to_the_right_half_are_zero_there(starter, digits):
    blind = nn.Sequential(RightHalfBlanked(), copy.deepcopy(starter)).eval()
    blind.stages = starter.stages
    x, label = digits[1]
    for attribution in (saliency(blind, x, label), integrated_gradients(blind, x, label)):
        assert attribution.shape == (28, 28) and torch.isfinite(attribution).all()
        assert attribution[:, 15:].abs().max() == 0 and attribution[:, :15].abs().max() > 0


def test_integrated_gradients_add_up_to_the_change_in_score(starter, digits):
    x, label = digits[2]
    attribution = integrated_gradients(starter, x, label)
    with torch.no_grad():
        change = starter(x)[0, label] - starter(torch.full_like(x, float(x.min())))[0, label]
    assert attribution.sum().item() == pytest.approx(change.item(), rel=0.05)


def test_covering_the_digit_lowers_its_probability_and_covering_blank_corners_does_not(starter, digits):
    x, label = digits[3]
    drop = occlusion(starter, x, label)
    assert drop.shape == (28, 28) and torch.isfinite(drop).all()
    ink = x[0, 0] > x.min()
    assert drop[ink].mean() > 5 * drop[:3, :3].abs().mean()


def test_a_trained_nets_maps_differ_from_those_of_the_same_net_with_random_weights(starter, digits):
    """Adebayo et al.'s sanity check: maps that survive randomising the weights explain nothing."""
    before = {k: v.clone() for k, v in starter.state_dict().items()}
    random_net = randomized_copy(starter)
    assert all(torch.equal(v, starter.state_dict()[k]) for k, v in before.items())  # the model is untouched
    for x, label in digits[:4]:
        trained = grad_cam(starter, x, label)["layer3"]
        assert map_similarity(trained, trained) == pytest.approx(1.0)
        assert map_similarity(trained, grad_cam(random_net, x, label)["layer3"]) < 0.5
