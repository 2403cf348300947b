import threading
from dataclasses import replace

import pytest
import torch

from resnet_core.data.datasets import MNISTDataLoader
from resnet_core.files.checkpoints import load_checkpoint, save_checkpoint
from resnet_core.networks.resnet import resnet18
from resnet_core.training.config import RECIPES, TrainConfig, recipe
from resnet_core.training.evaluation import evaluate
from resnet_core.training.runner import make_loaders, new_model, run_training
from resnet_core.training.trainer import HISTORY_KEYS, ResNetTrainer, TrainingDiverged
from tests.conftest import TEST_DEVICE


def test_one_epoch_on_10k_digits_reaches_97_percent_on_2k(trained_resnet18):
    assert trained_resnet18.test.accuracy >= 97.0
    assert len(trained_resnet18.test.labels) == 2000
    assert trained_resnet18.history["train_images"] == [10_000]


def test_history_has_one_entry_per_epoch_with_every_field(trained_resnet18, data_dir):
    history = trained_resnet18.history
    assert set(history) == set(HISTORY_KEYS)
    assert all(len(values) == 1 for values in history.values())
    validation = make_loaders(trained_resnet18.config, data_dir).validation
    assert history["val_acc"][0] == pytest.approx(evaluate(trained_resnet18.model, validation, TEST_DEVICE).accuracy)
    assert history["images_per_second"][0] > 0 and history["complete"] == [True]


def test_the_original_api_trains_reports_progress_and_stops_cleanly(data_dir):
    train_loader, test_loader = MNISTDataLoader(
        batch_size=64, data_dir=data_dir, train_subset=640, test_subset=200
    ).get_data_loaders()
    torch.manual_seed(0)
    trainer = ResNetTrainer(resnet18(), device=TEST_DEVICE)
    stop = threading.Event()
    steps, epochs = [], []

    def on_step(progress):
        steps.append(progress)
        if progress.epoch == 2 and progress.step >= 4:
            stop.set()

    history = trainer.train(
        train_loader,
        test_loader,
        num_epochs=3,
        learning_rate=1e-3,
        weight_decay=1e-4,
        on_step=on_step,
        on_epoch=epochs.append,
        stop_event=stop,
        report_every=2,
    )
    assert [p.step for p in steps[:5]] == [1, 2, 4, 6, 8]  # the run's first step, then every 2
    assert history["epoch"] == [1, 2] and history["complete"] == [True, False]
    assert [e.epoch for e in epochs] == [1, 2] and trainer.stopped
    assert history["train_images"] == [640, 4 * 64]
    weights_at_stop = {k: v.clone() for k, v in trainer.model.state_dict().items()}
    assert trainer.test(test_loader).accuracy == pytest.approx(history["val_acc"][-1])
    assert all(torch.equal(v, trainer.model.state_dict()[k]) for k, v in weights_at_stop.items())


def test_the_trainer_follows_its_config_and_the_original_arguments_override_it(data_dir):
    train_loader, _ = MNISTDataLoader(batch_size=100, data_dir=data_dir, train_subset=100).get_data_loaders()
    trainer = ResNetTrainer(resnet18(), device=TEST_DEVICE, config=TrainConfig(step_size=2, gamma=0.1, epochs=5))
    history = trainer.train(train_loader, None, num_epochs=3, learning_rate=1e-3)
    assert history["lr"] == pytest.approx([1e-3, 1e-4, 1e-4])  # step decay after every 2 epochs
    assert history["val_acc"] == [None, None, None]
    assert trainer.config.epochs == 3 and trainer.config.step_size == 2


def test_a_fast_config_runs_one_cycle_from_warm_up_to_almost_zero(data_dir):
    train_loader, _ = MNISTDataLoader(batch_size=50, data_dir=data_dir, train_subset=200).get_data_loaders()
    config = recipe("fast", epochs=2, device=TEST_DEVICE)
    lrs = []
    trainer = ResNetTrainer(resnet18(), config=config)
    trainer.train(train_loader, None, on_step=lambda p: lrs.append(p.lr), report_every=1)
    # 8 steps: from 3e-3/25 up to about the peak of 3e-3 at 30% of the cycle, then annealing to almost nothing.
    peak = lrs.index(max(lrs))
    assert len(lrs) == 8 and peak == 2 and max(lrs) == pytest.approx(3e-3, rel=0.05)
    assert lrs[peak:] == sorted(lrs[peak:], reverse=True) and lrs[-1] < 3e-3 / 1000


def test_a_loss_that_turns_nan_stops_training_with_advice():
    batches = [(torch.full((8, 1, 28, 28), float("nan")), torch.zeros(8, dtype=torch.long))] * 3
    trainer = ResNetTrainer(resnet18(), device=TEST_DEVICE)
    with pytest.raises(TrainingDiverged, match="learning rate .* too high; try 0.0001"):
        trainer.train(batches, None, num_epochs=1, learning_rate=1e-3)


def test_config_refuses_nonsense_with_a_reason():
    with pytest.raises(ValueError, match="scheduler"):
        TrainConfig(scheduler="cosine")
    with pytest.raises(ValueError, match="epochs must be at least 1"):
        TrainConfig(epochs=0)
    with pytest.raises(ValueError, match="lr must be a positive"):
        TrainConfig(lr=-1)
    with pytest.raises(ValueError, match="zero_init_residual needs the skip connections"):
        TrainConfig(residual=False, zero_init_residual=True)
    with pytest.raises(ValueError, match="Unknown dataset 'imagenet': choose one of mnist, fashion-mnist"):
        TrainConfig(dataset="imagenet")
    with pytest.raises(ValueError, match="Unknown arch 'resnet9'"):
        TrainConfig(arch="resnet9")
    with pytest.raises(ValueError, match="Unknown stem 'huge'"):
        TrainConfig(stem="huge")
    with pytest.raises(ValueError, match="Unknown precision 'fp16': choose one of auto, fp32, bf16"):
        TrainConfig(precision="fp16")
    assert TrainConfig.from_dict(TrainConfig(epochs=3).to_dict() | {"unknown": 1}).epochs == 3


def test_new_model_follows_the_config():
    plain = new_model(TrainConfig(arch="resnet34", stem="medium", residual=False))
    assert (plain.model_kwargs["stem"], plain.residual, len(plain.layer3)) == ("medium", False, 6)
    assert torch.all(plain.layer1[0].bn2.weight == 1)
    zeroed = new_model(TrainConfig(arch="resnet50", zero_init_residual=True))
    assert torch.all(zeroed.layer4[2].bn3.weight == 0) and torch.all(zeroed.bn1.weight == 1)


def test_recipes_are_named_for_what_they_are():
    classic = RECIPES["classic"]
    assert (classic.epochs, classic.batch_size, classic.lr, classic.weight_decay) == (10, 128, 1e-3, 1e-4)
    assert (classic.scheduler, classic.step_size, classic.gamma, classic.augment) == ("step", 7, 0.1, True)
    assert recipe("classic") == classic and recipe("fast", epochs=2).epochs == 2
    with pytest.raises(ValueError, match="classic, fast, sprint"):
        recipe("slow")


def test_missing_gpu_is_a_clear_error():
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    with pytest.raises(ValueError, match="no GPU is visible"):
        ResNetTrainer(resnet18(), device="cuda")


def test_a_damaged_resume_state_is_refused_with_a_way_forward():
    batches = [(torch.zeros(2, 1, 28, 28), torch.tensor([0, 1]))]
    trainer = ResNetTrainer(resnet18(), device=TEST_DEVICE)
    damaged = {"optimizer": {"state": {}, "param_groups": "none"}, "scheduler": {}, "history": {}}
    with pytest.raises(ValueError, match="Cannot resume: .* Start a new run instead of --resume"):
        trainer.train(batches, None, num_epochs=1, resume_state=damaged)
    assert trainer.history["epoch"] == []  # nothing trained


def _tiny_classic(epochs: int, **overrides) -> TrainConfig:
    return recipe(
        "classic", epochs=epochs, train_subset=256, test_subset=100, batch_size=64, device=TEST_DEVICE, **overrides
    )


def test_a_resumed_run_trains_on_the_same_batches_as_an_uninterrupted_one(data_dir, tmp_path):
    straight = run_training(_tiny_classic(2), data_dir)
    first = run_training(_tiny_classic(1), data_dir)
    path = save_checkpoint(tmp_path / "one.pt", first.model, first.config, {}, first.trainer.training_state(), epoch=1)
    resumed = run_training(_tiny_classic(2), data_dir, resume=load_checkpoint(path))
    assert resumed.history["epoch"] == [1, 2]
    assert resumed.history["train_loss"] == pytest.approx(straight.history["train_loss"], rel=1e-5)
    expected = straight.model.state_dict()
    for name, value in resumed.model.state_dict().items():
        torch.testing.assert_close(value, expected[name], rtol=1e-4, atol=1e-5, msg=name)


def test_a_one_cycle_run_cannot_be_resumed_longer_and_says_what_to_do(data_dir, tmp_path):
    config = recipe("fast", epochs=1, train_subset=128, test_subset=100, batch_size=64, device=TEST_DEVICE)
    first = run_training(config, data_dir)
    path = save_checkpoint(tmp_path / "fast.pt", first.model, config, {}, first.trainer.training_state(), epoch=1)
    with pytest.raises(
        ValueError, match=r"planned for 2 steps \(1 epochs .*\), and 3 epochs are 6.* cannot be lengthened"
    ):
        run_training(replace(config, epochs=3), data_dir, resume=load_checkpoint(path))


def test_a_run_is_tested_once_at_the_end_and_a_stop_before_any_step_keeps_no_result(data_dir):
    config = recipe("fast", arch="resnet8", train_subset=256, test_subset=300, validation_size=500, device=TEST_DEVICE)
    result = run_training(config, data_dir)
    assert len(result.test.labels) == 300 and len(result.history["val_acc"]) == 1
    assert result.test.accuracy == pytest.approx(evaluate(result.model, make_loaders(config, data_dir).test).accuracy)
    stopped = threading.Event()
    stopped.set()
    assert run_training(config, data_dir, stop_event=stopped).test is None


def test_checks_within_an_epoch_draw_the_validation_curve_without_counting_as_training(data_dir):
    config = _tiny_classic(2, arch="resnet8", validation_size=200, checks_per_epoch=3, augment=False)
    checks = []
    result = run_training(config, data_dir, on_check=checks.append)
    # 4 steps an epoch (256 digits in batches of 64): checks after steps 2 and 4 of each, the last the epoch's own.
    assert [round(c.epochs, 2) for c in checks] == [0.5, 1.0, 1.5, 2.0]
    assert result.trainer.checks == checks
    assert [c.val_acc for c in checks[1::2]] == result.history["val_acc"]  # the epochs' figures are their last checks
    assert checks[-1].seconds == pytest.approx(sum(result.history["seconds"]))
    assert all(a.seconds < b.seconds for a, b in zip(checks, checks[1:]))
    with pytest.raises(ValueError, match="checks_per_epoch must be at least 1"):
        TrainConfig(checks_per_epoch=0)
