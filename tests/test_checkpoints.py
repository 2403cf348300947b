import os
import pickle
import signal
import stat
import subprocess
import sys
import time

import pytest
import torch

from resnet_core.files.checkpoints import (
    STALE_TEMPORARY_SECONDS,
    CheckpointError,
    check_can_save,
    check_fits_dataset,
    checkpoint_bytes,
    load_checkpoint,
    save_checkpoint,
)
from resnet_core.networks.resnet import resnet8, resnet18, resnet20, resnet34
from resnet_core.training.config import TrainConfig
from resnet_core.training.trainer import new_history
from tests.conftest import bad_checkpoint, child_env


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


class _CtrlCWhilePickled:
    """A metric that presses Ctrl-C (SIGINT to this process) while torch.save pickles it."""

    def __reduce__(self):
        os.kill(os.getpid(), signal.SIGINT)
        return (float, (97.5,))


def test_ctrl_c_while_a_checkpoint_is_written_comes_after_a_whole_file(tmp_path):
    path = tmp_path / "model.pt"
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(path, resnet8(), metrics={"test_accuracy": _CtrlCWhilePickled()})
    assert torch.load(path, weights_only=False)["metrics"]["test_accuracy"] == 97.5
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    assert [p.name for p in tmp_path.iterdir()] == ["model.pt"]


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


def _tampered(tmp_path, change, model=None):
    _, path = _saved(tmp_path, model=model or resnet18())
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


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda p: p["model_kwargs"].update(num_classes=10**9), "num_classes = 1000000000, expected a whole number"),
        (lambda p: p["model_kwargs"].update(num_classes=-1), "num_classes = -1, expected a whole number of classes"),
        (lambda p: p["model_kwargs"].update(num_classes=1), "num_classes = 1, expected .* from 2 to 1,000"),
        (lambda p: p["model_kwargs"].update(num_classes=True), "num_classes = True"),
        (lambda p: p["model_kwargs"].update(num_classes=10.0), "num_classes = 10.0"),
        (lambda p: p["model_kwargs"].update(num_classes="10"), "num_classes = '10'"),
        (lambda p: p["model_kwargs"].update(in_chans=0), "in_chans = 0, expected .* input channels from 1 to 4"),
        (lambda p: p["model_kwargs"].update(in_chans=5), "in_chans = 5"),
        (lambda p: p["model_kwargs"].update(residual="yes"), "residual = 'yes', expected True or False"),
        (lambda p: p["model_kwargs"].update(residual=1), "residual = 1, expected True or False"),
        (
            lambda p: p["model_kwargs"].update(stem=["small"]),
            "stem = \\['small'\\], expected one of imagenet, medium, small",
        ),
        (lambda p: p["model_kwargs"].update(stem=None), "model settings are damaged: stem = None"),
        (lambda p: p.update(arch=["resnet8"]), "Unknown architecture \\['resnet8'\\]"),
        # In bounds, but not what the weights are: compared before the model is built.
        (lambda p: p["model_kwargs"].update(num_classes=11), "fc.weight has shape \\(10, 64\\), expected \\(11, 64\\)"),
        (
            lambda p: p["model_kwargs"].update(in_chans=3),
            "conv1.weight has shape \\(16, 1, 3, 3\\), expected \\(16, 3, 3, 3\\)",
        ),
        (lambda p: p["state_dict"].update({0: torch.zeros(1)}), "no usable weights"),
        (lambda p: p["state_dict"].update({"fc.bias": torch.zeros(10, dtype=torch.complex64)}), "fc.bias holds torch"),
        (lambda p: p.update(history={"epoch": [1, 2], "train_loss": [0.5]}), "training history is damaged"),
        (lambda p: p.update(history={"epoch": 1}), "training history is damaged"),
    ],
)
def test_model_settings_and_weights_are_checked_before_a_model_is_built(tmp_path, change, message):
    with pytest.raises(CheckpointError, match=message):
        load_checkpoint(_tampered(tmp_path, change, model=resnet8()))


def test_a_tiny_file_claiming_a_huge_model_is_refused_without_allocating_it(tmp_path):
    # 1.5 KB claiming 1.5 million classes: built first, its fc layer alone took 384 MB (3 GB for resnet18).
    path = tmp_path / "claims.pt"
    kwargs = {"num_classes": 1_500_000, "in_chans": 1, "stem": "small", "residual": True}
    torch.save(
        {
            "format": "resnet-explorer-checkpoint",
            "version": 1,
            "arch": "resnet8",
            "model_kwargs": kwargs,
            "state_dict": {},
        },
        path,
    )
    assert path.stat().st_size < 2_000
    # A fresh process: ru_maxrss is a peak, so growth in this one could hide below an earlier peak.
    code = (
        "import resource, sys\n"
        "from resnet_core.files.checkpoints import CheckpointError, load_checkpoint\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "try:\n"
        "    load_checkpoint(sys.argv[1])\n"
        "except CheckpointError as err:\n"
        "    print(err)\n"
        "unit = 2**20 if sys.platform == 'darwin' else 2**10  # ru_maxrss: bytes on macOS, KiB on Linux\n"
        "print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // unit)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(path)],
        capture_output=True,
        text=True,
        env=child_env(),
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    message, grown_mb = result.stdout.strip().splitlines()
    assert int(grown_mb) < 200
    assert "num_classes = 1500000, expected a whole number of classes from 2 to 1,000" in message


@pytest.mark.parametrize(
    "kwargs, built",
    [({"in_chans": 3}, "3-channel images and 10 classes"), ({"num_classes": 11}, "1-channel images and 11 classes")],
)
def test_a_model_for_other_images_or_classes_loads_but_is_refused_for_the_dataset(tmp_path, kwargs, built):
    path = save_checkpoint(tmp_path / "other.pt", resnet8(**kwargs), TrainConfig(arch="resnet8"))
    checkpoint = load_checkpoint(path)
    assert checkpoint.model.model_kwargs[next(iter(kwargs))] == next(iter(kwargs.values()))
    with pytest.raises(CheckpointError, match=f"built for {built}; MNIST needs 1-channel 28×28 images and 10 classes"):
        check_fits_dataset(checkpoint)
    with pytest.raises(CheckpointError, match="Fashion-MNIST needs 1-channel"):
        check_fits_dataset(checkpoint, "fashion-mnist")


def test_a_model_made_for_the_dataset_passes_its_check(tmp_path):
    path = save_checkpoint(tmp_path / "ok.pt", resnet8(), TrainConfig(arch="resnet8", dataset="fashion-mnist"))
    assert check_fits_dataset(load_checkpoint(path)) is None


def test_a_model_whose_settings_could_not_be_loaded_is_not_saved(tmp_path):
    with pytest.raises(CheckpointError, match="cannot be saved: .*num_classes = 1001"):
        save_checkpoint(tmp_path / "wide.pt", resnet8(num_classes=1001))
    assert not (tmp_path / "wide.pt").exists()


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_checkpoints_get_the_mode_of_a_new_file_under_the_umask(tmp_path, umask, mode):
    old = os.umask(umask)
    try:
        path = save_checkpoint(tmp_path / "m.pt", resnet8())
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == mode


def test_a_killed_saves_stale_temporary_file_is_removed_by_the_next_save(tmp_path):
    target = tmp_path / "model.pt"
    hour_ago = time.time() - 3600
    stale = tmp_path / ".model.pt.k1ll3d_x.tmp"  # mkstemp's names, from earlier releases, look like this
    live = tmp_path / ".model.pt.0a1b2c3d.tmp"  # another process saving to the same path right now
    other = tmp_path / ".other.pt.0a1b2c3d.tmp"  # a stale one, but another target's
    for orphan in (stale, live, other):
        orphan.write_bytes(b"half a checkpoint")
    os.utime(stale, (hour_ago, hour_ago))
    os.utime(other, (hour_ago, hour_ago))
    assert hour_ago < time.time() - STALE_TEMPORARY_SECONDS
    save_checkpoint(target, resnet8())
    assert sorted(p.name for p in tmp_path.iterdir()) == [live.name, other.name, "model.pt"]
    assert load_checkpoint(target).arch == "resnet8"


def test_a_folder_or_a_pipe_at_the_target_is_refused_and_left_alone(tmp_path):
    folder = tmp_path / "run"
    folder.mkdir()
    with pytest.raises(CheckpointError, match="it is a folder. Name a file in it, e.g. .*run/model.pt"):
        save_checkpoint(folder, resnet8())
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    with pytest.raises(CheckpointError, match="not a regular file"):
        save_checkpoint(pipe, resnet8())
    assert stat.S_ISFIFO(pipe.stat().st_mode) and folder.is_dir()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe", "run"]


def test_check_can_save_refuses_what_save_could_not_write_and_creates_nothing(tmp_path):
    (tmp_path / "notes.txt").write_text("a file, not a folder")
    with pytest.raises(CheckpointError, match="notes.txt is a file, not a folder"):
        check_can_save(tmp_path / "notes.txt" / "runs" / "model.pt")
    with pytest.raises(CheckpointError, match="it is a folder"):
        check_can_save(tmp_path)
    assert check_can_save(tmp_path / "new" / "deeper" / "model.pt") == tmp_path / "new" / "deeper" / "model.pt"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


@pytest.mark.parametrize("kind", ["a folder", "a dangling link", "a pipe"])
def test_a_path_that_is_no_checkpoint_file_is_refused_by_name(tmp_path, kind):
    path = bad_checkpoint(tmp_path, kind)
    message = "is a folder, not a checkpoint file" if kind == "a folder" else "No checkpoint file at"
    with pytest.raises(CheckpointError, match=message):
        load_checkpoint(path)


def _trained_one_step(model):
    optimizer = torch.optim.Adam(model.parameters())
    model(torch.randn(4, 1, 28, 28)).sum().backward()
    optimizer.step()
    history = new_history()
    for key in history:
        history[key].append(1 if key == "epoch" else True if key == "complete" else 0.5)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=7)
    return {"optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(), "history": history}


def test_a_slim_checkpoint_keeps_the_curves_in_a_third_of_the_size(tmp_path):
    model = resnet20()
    state = _trained_one_step(model)
    full = save_checkpoint(tmp_path / "full.pt", model, TrainConfig(arch="resnet20"), training_state=state, epoch=1)
    slim = save_checkpoint(tmp_path / "slim.pt", model, TrainConfig(arch="resnet20"), epoch=1, history=state["history"])
    assert slim.stat().st_size < 0.4 * full.stat().st_size
    assert slim.stat().st_size < 1.2 * 272_186 * 4  # the weights' float32 bytes and a little more
    loaded = load_checkpoint(slim)
    assert loaded.training_state is None and loaded.history == state["history"] and loaded.epoch == 1
    assert load_checkpoint(full).history == state["history"]
    assert load_checkpoint(full).training_state["optimizer"]["state"]
