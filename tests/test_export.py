"""Exports of the real starter ResNet-20, run where they are meant to run, on real MNIST test digits."""

import io
import shutil
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import onnx
import onnxruntime
import pytest
import torch

from resnet_core.data.augment import to_model_input
from resnet_core.files.checkpoints import load_checkpoint
from resnet_core.files.export import ONNX_OPSET, export_bytes, onnx_bytes, torchscript_bytes
from resnet_core.networks.resnet import resnet8
from tests.conftest import REPO
from tests.test_cli import run_cli

STARTER = REPO / "assets" / "starter-resnet20.pt"


@pytest.fixture(scope="module")
def starter():
    return load_checkpoint(STARTER).model


@pytest.fixture(scope="module")
def test_digits(mnist_test):
    images, _ = mnist_test
    return to_model_input(images[:200])


def _onnx_logits(data: bytes, x: torch.Tensor) -> np.ndarray:
    session = onnxruntime.InferenceSession(data, providers=["CPUExecutionProvider"])
    return session.run(["logits"], {"image": x.numpy()})[0]


def test_the_onnx_export_gives_the_models_outputs_in_onnxruntime_at_any_batch_size(starter, test_digits):
    data = onnx_bytes(starter)
    assert onnx.load_from_string(data).opset_import[0].version == ONNX_OPSET
    with torch.no_grad():
        expected = starter(test_digits).numpy()
    np.testing.assert_allclose(_onnx_logits(data, test_digits), expected, atol=1e-4, rtol=1e-4)
    np.testing.assert_allclose(_onnx_logits(data, test_digits[:1]), expected[:1], atol=1e-4, rtol=1e-4)


def test_the_torchscript_export_gives_the_models_outputs_in_torch(starter, test_digits):
    scripted = torch.jit.load(io.BytesIO(torchscript_bytes(starter)))
    with torch.no_grad():
        torch.testing.assert_close(scripted(test_digits), starter(test_digits), atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(scripted(test_digits[:3]), starter(test_digits[:3]), atol=1e-5, rtol=1e-5)


def test_exports_asked_for_at_once_each_get_their_file(test_digits):
    # Three students pressing Download together: each export runs on its own server thread.
    model = resnet8().eval()
    with ThreadPoolExecutor(3) as pool:
        files = list(pool.map(lambda fmt: export_bytes(model, fmt), ["onnx", "torchscript", "onnx"]))
    with torch.no_grad():
        expected = model(test_digits)
        for data in (files[0], files[2]):
            np.testing.assert_allclose(_onnx_logits(data, test_digits), expected.numpy(), atol=1e-4, rtol=1e-4)
        traced = torch.jit.load(io.BytesIO(files[1]))
        torch.testing.assert_close(traced(test_digits), expected, atol=1e-5, rtol=1e-5)


def test_the_export_command_writes_each_format_next_to_the_checkpoint(tmp_path, test_digits, starter):
    checkpoint = shutil.copy(STARTER, tmp_path / "starter.pt")
    for fmt, written in (("onnx", tmp_path / "starter.onnx"), ("torchscript", tmp_path / "starter-torchscript.pt")):
        result = run_cli("export", "--checkpoint", checkpoint, "--format", fmt)
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith(f"{written}: resnet20 as ")
        assert written.stat().st_size > 1_000_000
    with torch.no_grad():
        np.testing.assert_allclose(
            _onnx_logits((tmp_path / "starter.onnx").read_bytes(), test_digits[:10]),
            starter(test_digits[:10]).numpy(),
            atol=1e-4,
            rtol=1e-4,
        )


def test_the_export_command_refuses_what_is_no_checkpoint_in_one_line(tmp_path):
    (tmp_path / "notes.pt").write_text("not a checkpoint")
    result = run_cli("export", "--checkpoint", tmp_path / "notes.pt", "--format", "onnx")
    assert result.returncode == 2 and result.stderr.startswith("error: ") and result.stderr.count("\n") == 1
    assert not (tmp_path / "notes.onnx").exists()
