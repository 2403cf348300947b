"""What the model answers for a prepared digit, and when it says it is not sure."""

import numpy as np
import pytest
import torch

from resnet_core.data.augment import normalize
from resnet_core.data.datasets import stratified_indices
from resnet_core.digits.reading import SURE_PROBABILITY, predict, read_digit
from resnet_core.networks.resnet import resnet18


def test_not_sure_flags_few_right_answers_and_many_wrong_ones(trained_resnet18, mnist_test):
    images, labels = mnist_test
    idx = stratified_indices(labels, 2000, seed=0)  # the subset the fixture was tested on
    probabilities = predict(trained_resnet18.model, normalize(images[idx].float()[:, None] / 255))
    readings = [read_digit(p) for p in probabilities]
    right = np.array([r.answer == label for r, label in zip(readings, labels[idx].tolist())])
    unsure = np.array([not r.sure for r in readings])
    assert unsure[right].mean() < 0.03  # measured: 1.8% of right answers
    assert unsure[~right].mean() > 0.3  # measured: 50% of wrong ones


def test_a_reading_gives_the_answer_and_whether_it_is_sure():
    confident = torch.tensor([0.02] * 9 + [0.82])
    assert read_digit(confident) == read_digit(confident.numpy())
    reading = read_digit(confident)
    assert (reading.answer, reading.sure) == (9, True) and reading.probability == pytest.approx(0.82)
    torn = torch.tensor([0.0, 0.45, 0.0, 0.0, 0.0, 0.0, 0.0, 0.4, 0.15, 0.0])
    assert read_digit(torn).answer == 1 and not read_digit(torn).sure
    assert read_digit(torch.full((10,), 0.1)).probability < SURE_PROBABILITY


def test_predict_gives_probabilities_and_leaves_the_mode_alone():
    model = resnet18()
    model.train()
    probabilities = predict(model, torch.randn(3, 1, 28, 28))
    assert probabilities.shape == (3, 10)
    torch.testing.assert_close(probabilities.sum(1), torch.ones(3))
    assert model.training
