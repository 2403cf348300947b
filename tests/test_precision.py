"""The arithmetic a training run chooses: bf16 autocast only where this machine measured it faster."""

import math

import torch

from resnet_core.data import MNISTDataLoader
from resnet_core.models import build_model, resnet18
from resnet_core.precision import MIN_SPEEDUP, MIN_STEPS_TO_PROBE, choose_precision, cpu_has_bf16, cpu_speedup
from resnet_core.train import ResNetTrainer

CPU = torch.device("cpu")


def test_the_probe_measures_on_a_copy_and_leaves_weights_and_random_state_alone():
    model = build_model("resnet18")
    weights = {name: value.clone() for name, value in model.state_dict().items()}
    rng = torch.get_rng_state()
    speedup = cpu_speedup(model, batch_size=16)
    assert math.isfinite(speedup) and speedup > 0
    assert all(torch.equal(weights[name], value) for name, value in model.state_dict().items())
    assert torch.equal(rng, torch.get_rng_state())


def test_on_the_cpu_bf16_is_chosen_only_when_measured_faster():
    chosen = choose_precision(build_model("resnet18", stem="medium"), CPU, requested=True, batch_size=16)
    if cpu_has_bf16():
        assert chosen.bf16 == (chosen.speedup >= MIN_SPEEDUP)
        assert f"bf16 ran at {chosen.speedup:.2f}x fp32's speed" in chosen.reason
    else:  # emulated bf16 is slower: no probe, fp32
        assert not chosen.bf16 and chosen.speedup is None
        assert "this CPU has no bf16 instructions" in chosen.reason


def test_turned_off_or_on_a_gpu_nothing_is_probed():
    off = choose_precision(resnet18(), CPU, requested=False, batch_size=128)
    assert not off.bf16 and off.speedup is None and off.reason == "fp32: mixed precision turned off"
    cuda = choose_precision(resnet18(), torch.device("cuda"), requested=True, batch_size=128)
    assert cuda.bf16 and cuda.speedup is None


def test_a_short_cpu_run_stays_in_fp32_without_probing(data_dir):
    train_loader, _ = MNISTDataLoader(batch_size=64, data_dir=data_dir, train_subset=256).get_data_loaders()
    trainer = ResNetTrainer(resnet18(), device="cpu")
    trainer.train(train_loader, num_epochs=1)
    assert not trainer.precision.bf16 and trainer.precision.speedup is None
    assert trainer.precision.reason == "fp32: 4 steps are too few to pay for a bf16 speed probe"


def test_a_run_long_enough_chooses_by_the_probe_and_trains_in_that_arithmetic(data_dir):
    batch = 8
    train_loader, test_loader = MNISTDataLoader(
        batch_size=batch, data_dir=data_dir, train_subset=MIN_STEPS_TO_PROBE * batch, test_subset=200
    ).get_data_loaders()
    torch.manual_seed(0)
    trainer = ResNetTrainer(build_model("resnet18", stem="medium"), device="cpu")
    logit_types = set()
    trainer.model.fc.register_forward_hook(lambda module, inputs, output: logit_types.add(output.dtype))
    history = trainer.train(train_loader, test_loader, num_epochs=1, learning_rate=3e-3)
    expected = choose_precision(trainer.model, CPU, requested=True, batch_size=batch)  # the cached verdict
    assert trainer.precision == expected
    # Training and the evaluation after it both ran in the chosen arithmetic (the probe used a copy).
    assert logit_types == {torch.bfloat16 if trainer.precision.bf16 else torch.float32}
    assert history["val_acc"][0] > 50  # a hundred small steps learn digits in either arithmetic
