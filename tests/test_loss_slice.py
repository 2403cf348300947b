import pytest
import torch

from resnet_core.inside.loss_slice import filter_normalised_direction, loss_slice
from resnet_core.training.evaluation import evaluate, tensor_batches


def test_direction_has_each_filters_norm_and_leaves_batchnorm_alone(trained_twins):
    model = trained_twins.nets["residual"]
    direction = filter_normalised_direction(model, seed=3)
    for name, param in model.named_parameters():
        d = direction[name]
        assert d.shape == param.shape
        if param.dim() <= 1:
            assert not d.any()
        else:
            torch.testing.assert_close(d.flatten(1).norm(dim=1), param.detach().flatten(1).norm(dim=1))
    assert torch.equal(direction["conv1.weight"], filter_normalised_direction(model, seed=3)["conv1.weight"])


@pytest.mark.parametrize("twin", ["residual", "plain"])
def test_the_trained_weights_sit_in_a_valley_of_the_slice(trained_twins, lab, twin):
    model = trained_twins.nets[twin].eval()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    images, labels = lab.test_images[:200], lab.test_labels[:200]
    result = loss_slice(model, images, labels, alphas=[-1.0, -0.5, 0.0, 0.5, 1.0])
    assert result.alphas == [-1.0, -0.5, 0.0, 0.5, 1.0]
    assert result.losses[2] == pytest.approx(evaluate(model, tensor_batches(images, labels)).loss, rel=1e-4)
    assert result.losses[2] < min(result.losses[0], result.losses[-1])
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in before.items())
