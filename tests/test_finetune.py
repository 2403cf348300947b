"""Teaching the starter ResNet-20 new classes from a few examples: real Fashion-MNIST pictures stand in
for a student's new symbols (shapes the network has never been taught)."""

import pytest
import torch

from resnet_core.data.augment import to_model_input
from resnet_core.data.datasets import load_split
from resnet_core.files.checkpoints import load_checkpoint
from resnet_core.training.finetune import fine_tune
from tests.conftest import REPO

NEW = {"trouser": 1, "bag": 8, "sneaker": 7}  # Fashion-MNIST classes as three new symbols


@pytest.fixture(scope="module")
def starter():
    return load_checkpoint(REPO / "assets" / "starter-resnet20.pt").model


@pytest.fixture(scope="module")
def symbols(data_dir):
    images, labels = load_split("fashion-mnist", train=False, download=False)
    taught, held = [], []
    for new_label, fashion_label in enumerate(NEW.values()):
        members = (labels == fashion_label).nonzero().flatten()
        taught += [(i, new_label) for i in members[:5].tolist()]  # five drawings each, as in class
        held += [(i, new_label) for i in members[5:45].tolist()]

    def tensors(pairs):
        return to_model_input(images[[i for i, _ in pairs]]), torch.tensor([label for _, label in pairs])

    return tensors(taught), tensors(held)


@pytest.mark.parametrize("learns", ["head", "last stage"])
def test_five_examples_each_teach_three_new_symbols_without_touching_the_shared_model(starter, symbols, learns):
    (x, y), held_out = symbols
    before = {k: v.clone() for k, v in starter.state_dict().items()}
    taught = fine_tune(starter, x, y, tuple(NEW), learns=learns, held_out=held_out)
    assert all(torch.equal(v, starter.state_dict()[k]) for k, v in before.items())  # the shared model is as it was
    assert taught.accuracy_after >= 85 and taught.accuracy_after > taught.accuracy_before + 20
    with torch.no_grad():
        assert taught.model(held_out[0][:4]).shape == (4, 3)
    head = 64 * 3 + 3
    if learns == "head":
        assert taught.trained_parameters == head
    else:
        assert taught.trained_parameters == head + sum(p.numel() for p in starter.layer3.parameters())
    assert taught.total_parameters == sum(p.numel() for p in taught.model.parameters())


def test_a_class_without_examples_is_named_in_the_refusal(starter, symbols):
    (x, y), _ = symbols
    with pytest.raises(ValueError, match="Draw at least one example of sneaker"):
        fine_tune(starter, x[y != 2], y[y != 2], tuple(NEW))
