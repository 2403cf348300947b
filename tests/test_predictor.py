"""The fast predictor: BatchNorm folded, the same probabilities as the model, and no harm to it."""

import threading
import time

import pytest
import torch

from resnet_core.digits.predictor import Predictor
from resnet_core.digits.reading import predict
from resnet_core.networks.resnet import resnet18, resnet50


@pytest.mark.parametrize("builder", [resnet18, resnet50])
def test_predictor_gives_the_models_probabilities_and_leaves_it_alone(builder, trained_resnet18):
    model = trained_resnet18.model if builder is resnet18 else builder().eval()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    x = torch.randn(4, 1, 28, 28)
    fast = Predictor(model)
    # On a GPU, cuDNN convolutions run in TF32 (a 10-bit mantissa), and the folded weights round apart.
    on_gpu = next(model.parameters()).is_cuda
    torch.testing.assert_close(fast(x), predict(model, x), atol=2e-3 if on_gpu else 1e-4, rtol=1e-2 if on_gpu else 1e-3)
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in before.items())
    assert next(model.parameters()).is_contiguous()  # the original keeps its layout


def test_building_a_predictor_does_not_disturb_a_model_running_in_another_thread():
    # The app builds predictors in a background thread while pages run models (a torch.fx
    # trace here once broke those with "module is not installed as a submodule").
    model = resnet18().eval()
    errors, done = [], threading.Event()

    def build():
        try:
            while not done.is_set():
                fast = Predictor(model)
                assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in fast.module.modules())
        except Exception as err:  # noqa: BLE001 - reported below
            errors.append(err)

    builder = threading.Thread(target=build)
    builder.start()
    try:
        x = torch.randn(1, 1, 28, 28)
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            model.get_feature_maps(x)
    finally:
        done.set()
        builder.join()
    assert not errors


class _BatchNormAfterReLU(torch.nn.Module):
    # A bn that does not directly follow its conv: folding it into conv1 would be wrong.
    def __init__(self) -> None:
        super().__init__()
        self.conv1 = torch.nn.Conv2d(1, 4, 3)
        self.bn1 = torch.nn.BatchNorm2d(4)
        self.fc = torch.nn.Linear(4, 10)

    def forward(self, x):
        return self.fc(self.bn1(torch.relu(self.conv1(x))).mean((2, 3)))


def test_predictor_keeps_a_model_whose_batchnorm_cannot_be_folded():
    model = _BatchNormAfterReLU()
    with torch.no_grad():  # running statistics far from (0, 1), so a wrong fold shows
        model.bn1.running_mean.fill_(0.5)
        model.bn1.running_var.fill_(4.0)
        model.bn1.bias.fill_(-1.0)
    model.eval()
    x = torch.randn(3, 1, 28, 28)
    torch.testing.assert_close(Predictor(model)(x), predict(model, x), atol=1e-5, rtol=1e-4)


def test_building_a_predictor_leaves_the_random_stream_alone():
    model = resnet18().eval()
    torch.manual_seed(7)
    expected = torch.rand(3)
    torch.manual_seed(7)
    Predictor(model)
    assert torch.equal(torch.rand(3), expected)
