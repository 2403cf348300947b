import math

import pytest
import torch

from resnet_core.inside.gradient_flow import GradientFlowRecorder
from resnet_core.networks.resnet import build_model
from resnet_core.training.config import recipe
from resnet_core.training.trainer import ResNetTrainer
from tests.conftest import TEST_DEVICE


def _train(model, lab, recorder=None):
    trainer = ResNetTrainer(model, TEST_DEVICE, recipe("fast", batch_size=100, device=TEST_DEVICE, augment=False))
    callbacks = [recorder] if recorder is not None else []
    return trainer.train(lab.train, callbacks=callbacks, report_every=5)


@pytest.mark.parametrize("residual", [True, False])
def test_records_one_finite_norm_per_block_every_n_steps_and_removes_its_hooks(lab, residual):
    torch.manual_seed(0)
    model = build_model("resnet8", residual=residual)
    with GradientFlowRecorder(model, every=3) as recorder:
        _train(model, lab, recorder)
    flow = recorder.result()
    steps = len(lab.train)
    assert flow.blocks == ["layer1.0", "layer2.0", "layer3.0"]
    assert flow.steps == list(range(0, steps, 3))
    weight, output = flow.as_tensors()
    assert weight.shape == output.shape == (len(flow.steps), 3)
    assert torch.isfinite(weight).all() and torch.isfinite(output).all()
    assert (weight > 0).all() and (output > 0).all()
    assert all(not block._forward_hooks for _, block in model.blocks())


def test_hooks_come_off_when_training_raises(lab):
    model = build_model("resnet8").to(lab.test_images.device)
    with pytest.raises(RuntimeError, match="boom"):
        with GradientFlowRecorder(model, every=1):
            model(lab.test_images[:4]).sum().backward()
            raise RuntimeError("boom")
    assert all(not block._forward_hooks for _, block in model.blocks())


def test_output_gradient_is_what_autograd_computes_for_the_block(lab):
    torch.manual_seed(0)
    model = build_model("resnet8").to(lab.test_images.device).train()
    x, y = lab.test_images[:32], lab.test_labels[:32]
    captured = {}

    def keep_gradient(module, inputs, out):
        out.register_hook(lambda g: captured.update(g=g))

    model.layer2[0].register_forward_hook(keep_gradient)
    with GradientFlowRecorder(model, every=1) as recorder:
        recorder.before_step(0)
        torch.nn.functional.cross_entropy(model(x), y).backward()
        recorder.after_backward(0)
    flow = recorder.result()
    assert math.isclose(flow.output_grad_norm[0][1], captured["g"].norm().item(), rel_tol=1e-5)
    expected = torch.cat([p.grad.flatten() for p in model.layer2[0].parameters()]).norm().item()
    assert math.isclose(flow.weight_grad_norm[0][1], expected, rel_tol=1e-5)


def test_a_recorder_outside_its_with_records_nothing(lab):
    model = build_model("resnet8").to(lab.test_images.device)
    recorder = GradientFlowRecorder(model, every=1)
    recorder.before_step(0)
    model(lab.test_images[:8]).sum().backward()
    recorder.after_backward(0)
    assert recorder.result().steps == []
    with pytest.raises(ValueError, match="at least 1"):
        GradientFlowRecorder(model, every=0)
