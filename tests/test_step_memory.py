"""The memory of a training step, estimated on the meta device before anything is allocated."""

import pytest
import torch

from resnet_core.training.config import recipe
from resnet_core.training.runner import new_model
from resnet_core.training.step_memory import step_memory, too_big_message


def saved_for_backward(config, batch: int) -> int:
    """Bytes autograd really keeps for the backward pass of one forward on the CPU."""
    model = new_model(config).train()
    kept = {}

    def keep(tensor):
        kept[tensor.untyped_storage().data_ptr()] = tensor.untyped_storage().nbytes()
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(keep, lambda tensor: tensor):
        model(torch.randn(batch, 1, 28, 28)).sum()
    return sum(kept.values())


@pytest.mark.parametrize(("arch", "stem"), [("resnet20", None), ("resnet18", "medium"), ("resnet50", "imagenet")])
def test_the_estimate_covers_what_autograd_keeps_without_doubling_it(arch, stem):
    config = recipe("fast", arch=arch, stem=stem)
    per_image = (saved_for_backward(config, 16) - saved_for_backward(config, 8)) / 8  # the weights cancel out
    assert per_image <= step_memory(config).per_image <= 2 * per_image


def test_settings_that_fit_pass_and_the_largest_batch_fits_its_budget():
    assert too_big_message(recipe("fast"), torch.device("cpu")) is None  # ResNet-18 at batch 128: 0.2 GB
    config = recipe("fast", arch="resnet152", stem="small")
    need = step_memory(config)
    budget = 12 * 2**30
    largest = need.largest_batch(budget)
    assert need.at(largest) <= budget < need.at(largest + 1)
    # Weights, their gradients and Adam's two moments, each float32.
    assert need.fixed == 4 * 4 * sum(p.numel() for p in new_model(config).parameters())
