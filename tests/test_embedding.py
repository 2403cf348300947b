"""The starter ResNet-20's features of real test digits, projected to 2-D."""

import pytest
import torch

from resnet_core.data.augment import to_model_input
from resnet_core.data.datasets import stratified_indices
from resnet_core.files.checkpoints import load_checkpoint
from resnet_core.inside.embedding import pca_2d, penultimate_features
from tests.conftest import REPO


@pytest.fixture(scope="module")
def features_and_labels(mnist_test):
    images, labels = mnist_test
    chosen = stratified_indices(labels, 1000, seed=0)
    model = load_checkpoint(REPO / "assets" / "starter-resnet20.pt").model
    return penultimate_features(model, to_model_input(images[chosen]), batch_size=300), labels[chosen], model


def test_penultimate_features_are_what_the_classifier_reads(features_and_labels, mnist_test):
    features, _, model = features_and_labels
    images, _ = mnist_test
    assert features.shape == (1000, 64)
    x = to_model_input(images[:5])
    with torch.no_grad():
        torch.testing.assert_close(model.fc(penultimate_features(model, x)), model(x), rtol=1e-4, atol=1e-4)


def test_the_projection_keeps_the_classes_apart_and_places_new_points_on_the_same_axes(features_and_labels):
    features, labels, _ = features_and_labels
    projection = pca_2d(features)
    assert projection.points.shape == (1000, 2) and 0 < sum(projection.explained) <= 1
    torch.testing.assert_close(projection.place(features[:7]), projection.points[:7])
    # Each class's points sit nearer their own centre than the centres sit to each other.
    centres = torch.stack([projection.points[labels == c].mean(0) for c in range(10)])
    spread = torch.stack([(projection.points[labels == c] - centres[c]).norm(dim=1).median() for c in range(10)])
    between = torch.cdist(centres, centres)[~torch.eye(10, dtype=torch.bool)].median()
    assert between > 1.5 * spread.median()
    assert pca_2d(features).points.equal(projection.points)  # the same picture every time


def test_pca_refuses_fewer_than_three_points():
    with pytest.raises(ValueError, match="at least 3 points"):
        pca_2d(torch.randn(2, 8))
