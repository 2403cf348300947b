"""Rows for comparing runs, and a past run's settings for the Train page, from real checkpoints."""

import pytest

from resnet_core.depth_study.reference import load_reference
from resnet_core.files.checkpoints import load_checkpoint
from resnet_core.files.run_records import recipe_name, run_record
from resnet_core.training.config import TrainConfig, recipe
from tests.conftest import REPO
from ui.lab.in_advance import REFERENCE_FILE
from ui.models.run_table import all_runs
from ui.training.form import DEFAULTS, settings_of


def test_a_starters_row_says_what_its_checkpoint_recorded():
    checkpoint = load_checkpoint(REPO / "assets" / "starter-plain20.pt")
    record = run_record("Starter plain-20", "starter", checkpoint, None)
    assert (record.arch, record.stem, record.residual, record.dataset) == ("resnet20", "small", False, "mnist")
    assert record.recipe == "fast" and record.test_accuracy == pytest.approx(99.52)
    assert record.epochs == len(checkpoint.history["epoch"]) == 4
    assert record.training_seconds == pytest.approx(sum(checkpoint.history["seconds"]))
    assert record.parameters == sum(p.numel() for p in checkpoint.model.parameters())
    assert run_record("x", "run", checkpoint, None, accuracy=97.5).test_accuracy == 97.5  # the run's own test


def test_recipes_are_named_by_their_schedule():
    assert recipe_name(recipe("fast")) == "fast" and recipe_name(recipe("classic")) == "classic"
    assert recipe_name(TrainConfig(scheduler="constant")) == "other" and recipe_name(None) == "other"


def test_a_past_runs_settings_become_the_nearest_the_train_page_offers():
    settings = settings_of(TrainConfig(arch="resnet34", lr=5e-4, batch_size=100, train_subset=3_000, epochs=70))
    assert set(settings) == set(DEFAULTS)  # every widget of the page, no other
    assert settings["train:arch"] == "resnet34" and settings["train:lr"] == 3e-4 and settings["train:batch_size"] == 128
    assert settings["train:length"] == "Custom" and settings["train:digits"] == 2_000 and settings["train:epochs"] == 50
    assert settings_of(TrainConfig(train_subset=None))["train:digits"] == 55_000  # all the training digits


def test_the_labs_twins_measured_in_advance_are_rows_that_say_what_their_test_counted():
    ref = load_reference(REPO / "assets" / REFERENCE_FILE)
    rows = {r.name: r for r in all_runs() if r.source == "Residual Lab, in advance"}
    assert len(rows) == 2 * len(ref.runs)
    plain = rows["Lab: resnet56 without shortcuts"]
    assert (plain.arch, plain.residual, plain.test_digits) == ("resnet56", False, ref.test_subset)
    assert plain.test_accuracy == ref.runs["resnet56"]["final"]["plain"]["test_accuracy"]
    assert plain.parameters < rows["Lab: resnet56 with shortcuts"].parameters  # no projection shortcuts
    assert settings_of(plain.config)["train:residual"] is False  # trained again, it is the plain twin again
    starter = next(r for r in all_runs() if r.source == "starter")
    assert starter.test_digits == 10_000
