"""Training-time estimates: speed measured with real steps, then arithmetic over the run's images."""

import pytest

from resnet_core.training.config import recipe
from resnet_core.training.speed import Speed, estimate_run_seconds, measure_speed, run_sizes
from tests.conftest import TEST_DEVICE


def test_speed_is_measured_with_real_steps_and_testing_is_faster_than_training():
    speed = measure_speed(recipe("fast", arch="resnet8", batch_size=32, device=TEST_DEVICE), steps=2)
    assert 0 < speed.training < speed.testing


def test_a_run_counts_its_training_validation_and_one_test():
    config = recipe("fast", epochs=3, train_subset=2_000, validation_size=1_000, test_subset=500)
    assert run_sizes(config) == (2_000, 1_000, 500)
    assert estimate_run_seconds(config, Speed(training=100.0, testing=500.0)) == pytest.approx(
        3 * 2_000 / 100 + (3 * 1_000 + 500) / 500
    )
    everything = recipe("fast", validation_size=5_000)
    assert run_sizes(everything) == (55_000, 5_000, 10_000)
    with pytest.raises(ValueError, match="positive"):
        estimate_run_seconds(config, Speed(training=0.0, testing=1.0))
