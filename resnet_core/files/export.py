"""A trained model to take away: TorchScript (runs in PyTorch without this project) and ONNX (runs in
onnxruntime, and in most other runtimes, without PyTorch).

Both take one batch of (N, in_chans, 28, 28) float images normalised as in training
(resnet_core.data.augment.to_model_input) and give (N, classes) logits; the batch size may vary.
The model is exported from an eval-mode CPU copy, so a shared model is never touched.
"""

from __future__ import annotations

import copy
import io
import os
import tempfile
import threading
import warnings
from pathlib import Path

import torch
from torch import nn

ONNX_OPSET = 18  # onnxruntime 1.17 and later run it; PyTorch's exporter writes it natively
FORMATS = ("onnx", "torchscript")
# How an export's file name ends, after the checkpoint's name: r18.pt -> r18.onnx, r18-torchscript.pt.
FILE_ENDINGS = {"onnx": ".onnx", "torchscript": "-torchscript.pt"}
INPUT_NAME, OUTPUT_NAME = "image", "logits"
# torch.export and torch.jit.trace keep tracing state for the whole process: two exports at once
# (two students pressing Download) break each other, and once left ONNX export broken until restart.
_ONE_EXPORT_AT_A_TIME = threading.Lock()


def _cpu_copy(model: nn.Module) -> tuple[nn.Module, torch.Tensor]:
    model = copy.deepcopy(model).cpu().eval()
    channels = model.model_kwargs["in_chans"] if hasattr(model, "model_kwargs") else 1
    return model, torch.zeros(2, channels, 28, 28)


def torchscript_bytes(model: nn.Module) -> bytes:
    """The model traced to TorchScript: torch.jit.load(io.BytesIO(data)) runs it."""
    model, example = _cpu_copy(model)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # TorchScript's deprecation notice: the file still loads in torch
        traced = torch.jit.trace(model, example)
        buffer = io.BytesIO()
        torch.jit.save(traced, buffer)
    return buffer.getvalue()


def onnx_bytes(model: nn.Module, opset: int = ONNX_OPSET) -> bytes:
    """The model as ONNX at `opset`, with a variable batch size: onnxruntime runs it."""
    model, example = _cpu_copy(model)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.onnx"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                model,
                (example,),
                str(path),
                input_names=[INPUT_NAME],
                output_names=[OUTPUT_NAME],
                opset_version=opset,
                dynamic_shapes={"x": {0: torch.export.Dim("batch", min=1, max=4096)}},
                external_data=False,  # one self-contained file, even for ResNet-152
                verbose=False,
            )
        return path.read_bytes()


def export_bytes(model: nn.Module, fmt: str) -> bytes:
    """The model as "onnx" or "torchscript", as the file's bytes; exports from other threads wait their turn."""
    with _ONE_EXPORT_AT_A_TIME:
        return onnx_bytes(model) if fmt == "onnx" else torchscript_bytes(model)


def export_model(model: nn.Module, path: Path | str, fmt: str) -> Path:
    """Write the model to `path` as "onnx" or "torchscript"; the file appears whole or not at all."""
    if fmt not in FORMATS:
        raise ValueError(f"Unknown export format {fmt!r}: choose onnx or torchscript.")
    data = export_bytes(model, fmt)
    path = Path(path)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)
    return path
