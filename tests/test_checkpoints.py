import os
import pickle

import pytest
import torch

from resnet_core.checkpoints import (
    CheckpointError,
    checkpoint_bytes,
    load_checkpoint,
    save_checkpoint,
)
from resnet_core.config import TrainConfig
from resnet_core.models import resnet18, resnet34


def _saved(tmp_path, model=None, **kwargs):
    model = model or resnet18(stem="small")
    path = save_checkpoint(
        tmp_path / "run" / "model.pt", model, TrainConfig(epochs=2), {"test_accuracy": 98.5}, **kwargs
    )
    return model, path


def test_round_trip_restores_weights_settings_and_metrics(tmp_path):
    model, path = _saved(tmp_path)
    loaded = load_checkpoint(path)
    assert loaded.arch == "resnet18" and loaded.model.model_kwargs["stem"] == "small"
    assert loaded.config == TrainConfig(epochs=2) and loaded.metrics == {"test_accuracy": 98.5}
    assert not loaded.model.training
    for key, value in model.state_dict().items():
        assert torch.equal(value, loaded.model.state_dict()[key])
    assert load_checkpoint(path.read_bytes()).arch == "resnet18"
    assert load_checkpoint(checkpoint_bytes(model)).arch == "resnet18"


def test_saving_is_atomic_and_leaves_no_temporary_files(tmp_path):
    _, path = _saved(tmp_path)
    first = path.read_bytes()
    _saved(tmp_path, model=resnet18(stem="small"))
    assert os.listdir(path.parent) == ["model.pt"]
    assert path.read_bytes() != first


class _RunsCode:
    def __reduce__(self):
        return (os.system, ("touch pwned-by-checkpoint",))


def test_a_pickle_that_would_run_code_is_refused_and_not_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "evil.pt"
    torch.save({"format": "resnet-explorer-checkpoint", "payload": _RunsCode()}, path)
    with pytest.raises(CheckpointError, match="could run code"):
        load_checkpoint(path)
    assert not (tmp_path / "pwned-by-checkpoint").exists()
    with pytest.raises(CheckpointError, match="could run code"):
        load_checkpoint(pickle.dumps(_RunsCode(), protocol=2))


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "not a readable"),
        (b"\x00\x01garbage" * 100, "not a readable"),
    ],
)
def test_non_checkpoint_bytes_are_refused(content, message):
    with pytest.raises(CheckpointError, match=message):
        load_checkpoint(content)


def test_truncated_and_missing_files_are_refused(tmp_path):
    _, path = _saved(tmp_path)
    data = path.read_bytes()
    with pytest.raises(CheckpointError, match="not a readable"):
        load_checkpoint(data[: len(data) // 3])
    with pytest.raises(CheckpointError, match="No checkpoint file"):
        load_checkpoint(tmp_path / "nope.pt")


def test_a_plain_state_dict_is_explained(tmp_path):
    path = tmp_path / "weights.pt"
    torch.save(resnet18().state_dict(), path)
    with pytest.raises(CheckpointError, match="not a ResNet Explorer checkpoint"):
        load_checkpoint(path)


def _tampered(tmp_path, change):
    _, path = _saved(tmp_path, model=resnet18())
    payload = torch.load(path, weights_only=True)
    change(payload)
    torch.save(payload, path)
    return path


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda p: p.update(arch="resnet9000"), "Unknown architecture 'resnet9000'"),
        (lambda p: p.update(arch="resnet34"), "do not fit resnet34: .* missing"),
        (lambda p: p["state_dict"].pop("fc.bias"), "1 missing \\(e.g. fc.bias\\)"),
        (lambda p: p["state_dict"].update({"fc.weight": torch.zeros(3, 512)}), "fc.weight has shape \\(3, 512\\)"),
        (lambda p: p["state_dict"]["fc.bias"].fill_(float("nan")), "NaN or infinite"),
        (lambda p: p.update(version=99), "version 99"),
        (lambda p: p["model_kwargs"].update(stem="huge"), "Unknown stem 'huge'"),
        (lambda p: p.update(config={"epochs": 0}), "training settings are damaged"),
        (lambda p: p["config"].update(dataset="imagenet"), "training settings are damaged: Unknown dataset"),
        (lambda p: p.update(metrics="abc"), "metrics are damaged: a str, not a dictionary"),
        (lambda p: p.update(metrics={"test_accuracy": "high"}), "test accuracy is damaged: 'high' is not a percentage"),
        (lambda p: p.update(metrics={"test_accuracy": float("nan")}), "test accuracy is damaged: nan"),
        (lambda p: p.update(training_state="x"), "training state .* is damaged"),
        (lambda p: p.update(training_state={"history": 5}), "training state .* is damaged"),
        (lambda p: p.update(epoch="3"), "epoch count is damaged: '3'"),
    ],
)
def test_damaged_checkpoints_name_what_is_wrong(tmp_path, change, message):
    with pytest.raises(CheckpointError, match=message):
        load_checkpoint(_tampered(tmp_path, change))


def test_resnet34_round_trip_keeps_architecture(tmp_path):
    path = save_checkpoint(tmp_path / "m.pt", resnet34())
    assert load_checkpoint(path).arch == "resnet34"
