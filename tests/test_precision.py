"""The arithmetic of a training run is a setting: auto (bf16 autocast on CUDA only), fp32 or bf16."""

import pytest
import torch

from resnet_core.data.datasets import MNISTDataLoader
from resnet_core.networks.resnet import resnet18
from resnet_core.training.config import TrainConfig
from resnet_core.training.precision import describe_precision, uses_bf16
from resnet_core.training.trainer import ResNetTrainer

CPU, CUDA = torch.device("cpu"), torch.device("cuda")


def test_auto_means_bf16_on_cuda_and_fp32_everywhere_else():
    assert uses_bf16("auto", CUDA) and not uses_bf16("auto", CPU) and not uses_bf16("auto", torch.device("mps"))
    assert uses_bf16("bf16", CPU) and not uses_bf16("fp32", CUDA)
    assert describe_precision("auto", CPU) == "fp32 (auto: bf16 is used on a CUDA GPU only)"
    assert describe_precision("auto", CUDA) == "bf16 (auto: on a CUDA GPU)"
    assert describe_precision("bf16", CPU) == "bf16 (asked for)"
    with pytest.raises(ValueError, match="choose one of auto, fp32, bf16"):
        uses_bf16("half", CPU)


@pytest.mark.parametrize(
    "precision, dtype", [("auto", torch.float32), ("fp32", torch.float32), ("bf16", torch.bfloat16)]
)
def test_training_and_its_evaluation_compute_in_the_arithmetic_asked_for(precision, dtype, data_dir):
    train_loader, test_loader = MNISTDataLoader(
        batch_size=32, data_dir=data_dir, train_subset=64, test_subset=64
    ).get_data_loaders()
    trainer = ResNetTrainer(resnet18(), config=TrainConfig(precision=precision, device="cpu"))
    logit_types = set()
    trainer.model.fc.register_forward_hook(lambda module, inputs, output: logit_types.add(output.dtype))
    history = trainer.train(train_loader, test_loader, num_epochs=1)
    assert logit_types == {dtype}
    assert history["val_acc"][0] is not None and trainer.precision == describe_precision(precision, CPU)
