"""The starter models in assets/: small, safe to load, made as assets/README.md says, and accurate."""

import pytest

from resnet_core.data.datasets import MNISTDataLoader
from resnet_core.files.checkpoints import load_checkpoint
from resnet_core.training.trainer import ResNetTrainer
from tests.conftest import REPO, TEST_DEVICE
from ui.models.model_list import STARTER_DIR, STARTERS

ASSETS = REPO / "assets"
# The floor each starter must clear on all 10,000 test digits (assets/README.md gives what they reach).
FLOORS = {"starter-resnet20.pt": 99.3, "starter-plain20.pt": 99.0}


def test_the_app_looks_for_the_starters_where_they_ship():
    assert STARTER_DIR == ASSETS and all((STARTER_DIR / file_name).is_file() for file_name in STARTERS)


@pytest.mark.parametrize("file_name", list(STARTERS))
def test_a_starter_is_small_loads_without_code_and_was_made_as_documented(file_name):
    path = ASSETS / file_name
    assert path.stat().st_size <= 2 * 1024 * 1024
    checkpoint = load_checkpoint(path)  # weights_only: a file that asked to run code would be refused
    config = checkpoint.config
    assert (config.arch, config.model_stem, config.epochs, config.seed) == ("resnet20", "small", 4, 0)
    assert config.residual == (file_name == "starter-resnet20.pt")
    assert (config.train_subset, config.validation_size, config.scheduler) == (None, 5_000, "onecycle")
    assert checkpoint.training_state is None or checkpoint.training_state.get("optimizer") is None
    assert len(checkpoint.history["val_acc"]) == 4  # the curves came along, the optimiser did not
    assert file_name in (ASSETS / "README.md").read_text()


@pytest.mark.parametrize("file_name", list(STARTERS))
def test_a_starter_scores_what_it_claims_on_the_full_test_set(file_name, data_dir):
    checkpoint = load_checkpoint(ASSETS / file_name)
    test = MNISTDataLoader(data_dir=data_dir, device=TEST_DEVICE, download=False).get_test_loader()
    result = ResNetTrainer(checkpoint.model, device=TEST_DEVICE).test(test)
    assert len(result.labels) == 10_000
    assert result.accuracy >= FLOORS[file_name]
    assert result.accuracy == pytest.approx(checkpoint.metrics["test_accuracy"], abs=0.01)
