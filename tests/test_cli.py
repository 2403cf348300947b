"""The command line, run as a user runs it: a real `python -m resnet_core` process."""

import contextlib
import io
import os
import signal
import struct
import subprocess
import sys
import zlib

import numpy as np
import pytest
import torch
from PIL import Image

from resnet_core.cli import main as cli_main
from resnet_core.cli.parser import build_parser
from resnet_core.data.datasets import load_split
from resnet_core.devices import describe_device, select_device
from resnet_core.files.checkpoints import load_checkpoint, save_checkpoint
from resnet_core.networks.resnet import resnet8, resnet18
from resnet_core.training.config import TrainConfig
from resnet_core.training.distributed import gpu_for
from tests.conftest import REPO, TEST_DEVICE, bad_checkpoint, child_env

# 512 training digits, 200 held out for the validation line, 200 test digits: seconds per run.
TINY_RUN = [
    *("--epochs", "1", "--train-subset", "512", "--validation-size", "200"),
    *("--test-subset", "200", "--batch-size", "64", "--device", TEST_DEVICE),
]


def run_cli(*args, data_dir=None, module=None, launcher=None, timeout=300):
    """`python -m resnet_core ARGS`: its exit code, stdout and stderr.

    Run in this process through resnet_core.cli.main, as the module's __main__ does: a new Python
    spends about 4 s importing torch before the command starts. A `launcher` or `module` (torchrun,
    or `-m resnet_core` named outright) runs it as a process of its own.
    """
    if module is None and launcher is None:
        return _run_here([str(a) for a in args], data_dir)
    env = child_env()
    if data_dir is not None:
        env["RESNET_DATA_DIR"] = str(data_dir)
    launcher = (sys.executable,) if launcher is None else launcher
    module = ("-m", "resnet_core") if module is None else module
    command = [*launcher, *module, *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, env=env, cwd=REPO, timeout=timeout)


def _run_here(argv: list[str], data_dir) -> subprocess.CompletedProcess:
    out, err = io.StringIO(), io.StringIO()
    before = os.environ.get("RESNET_DATA_DIR")
    if data_dir is not None:
        os.environ["RESNET_DATA_DIR"] = str(data_dir)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = cli_main(argv)
            except SystemExit as exit:  # argparse's usage errors and --help
                code = exit.code if isinstance(exit.code, int) else 0 if exit.code is None else 1
    finally:
        if before is None:
            os.environ.pop("RESNET_DATA_DIR", None)
        else:
            os.environ["RESNET_DATA_DIR"] = before
    return subprocess.CompletedProcess(["python", "-m", "resnet_core", *argv], code, out.getvalue(), err.getvalue())


def _ctrl_c_as_in_a_terminal() -> None:
    # A process started from a background job inherits an ignored Ctrl-C (SIGINT); in a terminal it never is.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.fixture(scope="module")
def cli_checkpoint(data_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "tiny.pt"
    # As a process of its own: `python -m resnet_core` end to end, once.
    result = run_cli("train", *TINY_RUN, "--out", out, data_dir=data_dir, module=("-m", "resnet_core"))
    assert result.returncode == 0, result.stderr
    return out, result


def test_train_prints_progress_and_epoch_summary_and_saves(cli_checkpoint):
    out, result = cli_checkpoint
    assert "epoch 1/1 [" in result.stderr and "img/s" in result.stderr
    assert "epoch 1/1  train loss" in result.stdout and "val loss" in result.stdout
    assert f"on 200 digits; saved {out}" in result.stdout
    device_name = describe_device(select_device(TEST_DEVICE)).split(" (")[0]  # "CPU", "NVIDIA H200"
    assert f"(imagenet stem) on {device_name}" in result.stdout
    assert "in fp32 (auto: bf16 is used on a CUDA GPU only)" in result.stdout
    checkpoint = load_checkpoint(out)
    assert checkpoint.config.train_subset == 512 and checkpoint.metrics["test_samples"] == 200
    assert checkpoint.history["epoch"] == [1]


def test_a_fashion_mnist_run_keeps_its_dataset_and_speaks_of_images(data_dir, tmp_path):
    out = tmp_path / "fashion.pt"
    result = run_cli("train", *TINY_RUN, "--dataset", "fashion-mnist", "--out", out, data_dir=data_dir)
    assert result.returncode == 0, result.stderr
    assert f"on 200 images; saved {out}" in result.stdout
    assert load_checkpoint(out).config.dataset == "fashion-mnist"
    evaluated = run_cli(
        "evaluate", "--checkpoint", out, "--test-subset", "200", "--device", TEST_DEVICE, data_dir=data_dir
    )
    assert evaluated.returncode == 0, evaluated.stderr
    assert "on 200 Fashion-MNIST test images" in evaluated.stdout and "per class: T-shirt " in evaluated.stdout


def test_resume_continues_from_the_saved_epoch(cli_checkpoint, data_dir, tmp_path):
    out, _ = cli_checkpoint
    resumed = tmp_path / "resumed.pt"
    result = run_cli("train", "--resume", out, "--epochs", "2", "--out", resumed, data_dir=data_dir)
    assert result.returncode == 0, result.stderr
    assert "epoch 2/2  train loss" in result.stdout and "epoch 1/2" not in result.stdout
    assert load_checkpoint(resumed).history["epoch"] == [1, 2]


def test_a_one_cycle_run_resumed_for_more_epochs_is_refused_with_a_way_forward(data_dir, tmp_path):
    out = tmp_path / "fast.pt"
    tiny = ["--recipe", "fast", "--epochs", "1", "--train-subset", "128", "--validation-size", "100"]
    tiny += ["--test-subset", "100", "--batch-size", "64"]
    assert run_cli("train", *tiny, "--device", TEST_DEVICE, "--out", out, data_dir=data_dir).returncode == 0
    result = run_cli("train", "--resume", out, "--epochs", "3", "--out", tmp_path / "longer.pt", data_dir=data_dir)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "cannot be lengthened" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    again = run_cli("train", "--resume", out, "--epochs", "1", data_dir=data_dir)
    assert again.returncode == 2 and "has trained 1 epoch(s) already: pass --epochs with more than that" in again.stderr


def test_stems_recipes_and_precision_are_choices_of_flags():
    help_text = run_cli("train", "--help").stdout
    assert "--precision {auto,fp32,bf16}" in help_text and "--stem {imagenet,medium,small}" in help_text
    assert "{classic,fast,sprint}" in help_text
    parsed = build_parser().parse_args(["train", "--recipe", "fast", "--stem", "small", "--precision", "bf16"])
    assert (parsed.recipe, parsed.stem, parsed.precision) == ("fast", "small", "bf16")
    refused = run_cli("summary", "--arch", "resnet18", "--stem", "mnist")
    assert refused.returncode == 2 and "invalid choice: 'mnist'" in refused.stderr


def test_evaluate_reports_accuracy_and_per_class(cli_checkpoint, data_dir):
    out, _ = cli_checkpoint
    result = run_cli(
        "evaluate", "--checkpoint", out, "--test-subset", "200", "--device", TEST_DEVICE, data_dir=data_dir
    )
    assert result.returncode == 0, result.stderr
    trained_accuracy = load_checkpoint(out).metrics["test_accuracy"]
    assert f"accuracy {trained_accuracy:.2f}%" in result.stdout
    assert "per class: 0 " in result.stdout


def test_predict_classifies_image_files_and_reports_bad_ones(cli_checkpoint, data_dir, tmp_path):
    out, _ = cli_checkpoint
    images, labels = load_split("mnist", train=False, data_dir=data_dir, download=False)
    good = tmp_path / "digit.png"
    Image.fromarray(np.kron(images[0].numpy(), np.ones((8, 8), np.uint8))).save(good)
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not an image")
    result = run_cli("predict", "--checkpoint", out, good, broken)
    assert result.returncode == 1
    assert result.stdout.startswith(f"{good}: ") and "%" in result.stdout
    assert f"error: {broken}: This file is not a PNG" in result.stderr
    assert "Traceback" not in result.stderr


def test_summary_and_archs_print_measured_figures():
    summary = run_cli("summary", "--arch", "resnet18", "--depth", "1")
    assert summary.returncode == 0
    assert "parameters 11,175,370" in summary.stdout and "multiply-adds 33,020,554" in summary.stdout
    archs = run_cli("archs")
    assert archs.returncode == 0
    assert all(name in archs.stdout for name in ("resnet18", "resnet152")) and "58.16M" in archs.stdout
    assert all(name in archs.stdout for name in ("resnet8", "resnet110")) and "1.73M" in archs.stdout
    depth_family = run_cli("summary", "--arch", "resnet20", "--depth", "1")
    assert depth_family.returncode == 0 and "parameters 272,186" in depth_family.stdout


def test_a_plain_twin_of_the_depth_family_trains_with_its_own_stem(data_dir, tmp_path):
    out = tmp_path / "plain8.pt"
    result = run_cli("train", *TINY_RUN, "--arch", "resnet8", "--no-residual", "--out", out, data_dir=data_dir)
    assert result.returncode == 0, result.stderr
    assert "training resnet8 (small stem)" in result.stdout
    checkpoint = load_checkpoint(out)
    assert checkpoint.arch == "resnet8" and checkpoint.model.residual is False
    assert checkpoint.model.model_kwargs["stem"] == "small" and checkpoint.config.stem is None


@pytest.mark.parametrize(
    "args, message",
    [
        (["evaluate", "--checkpoint", "missing.pt"], "error: No checkpoint file at missing.pt"),
        (["train", "--epochs", "0"], "error: epochs must be at least 1"),
        (["train", "--no-residual", "--zero-init-residual"], "error: zero_init_residual needs the skip connections"),
        (["train", "--device", "cuda:7", "--epochs", "1"], "error: "),
        (["summary", "--arch", "resnet19"], "invalid choice: 'resnet19'"),
    ],
)
def test_bad_input_is_one_line_and_a_nonzero_exit(args, message, tmp_path):
    result = run_cli(*args, data_dir=tmp_path)
    assert result.returncode != 0
    assert message in result.stderr and "Traceback" not in result.stderr
    if message.startswith("error"):
        assert len(result.stderr.strip().splitlines()) == 1


def test_missing_dataset_explains_how_to_get_it(tmp_path):
    from resnet_core.files.checkpoints import save_checkpoint
    from resnet_core.networks.resnet import resnet18

    save_checkpoint(tmp_path / "x.pt", resnet18())
    env_dir = tmp_path / "empty"
    env_dir.mkdir()
    result = run_cli("evaluate", "--checkpoint", tmp_path / "x.pt", data_dir=env_dir)
    assert result.returncode == 2 and "MNIST is not available" in result.stderr
    assert "RESNET_DATA_DIR" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("command", ["train", "evaluate", "predict", "summary", "archs"])
def test_every_command_has_help(command):
    result = run_cli(command, "--help")
    assert result.returncode == 0 and result.stdout.startswith("usage: python -m resnet_core " + command)


def train_with_torchrun(*args, data_dir, timeout=600):
    """`torchrun --standalone --nproc_per_node=2 -m resnet_core train ARGS` on the CPU."""
    torchrun = (sys.executable, "-m", "torch.distributed.run", "--standalone")
    return run_cli(
        "--nproc_per_node=2",
        "-m",
        "resnet_core",
        "train",
        *args,
        module=(),
        launcher=torchrun,
        data_dir=data_dir,
        timeout=timeout,
    )


def test_each_gpu_process_takes_its_own_gpu_and_more_processes_than_gpus_are_refused():
    assert [gpu_for(rank, visible=2) for rank in (0, 1)] == [0, 1]
    with pytest.raises(
        ValueError, match=r"more processes on this machine than it has GPUs \(1 visible\): use --nproc_per_node=1"
    ):
        gpu_for(1, visible=1)


def test_torchrun_trains_two_cpu_processes_on_their_shards_even_of_unequal_size(data_dir, tmp_path):
    # 1,003 digits at batch 100 on 2 processes: unpadded, the ranks get 502 and 501 (6 batches and,
    # without its batch of one, 5), and the one with more would wait forever in its gradient all-reduce.
    out = tmp_path / "uneven.pt"
    uneven = ["--epochs", "1", "--train-subset", "1003", "--validation-size", "200", "--test-subset", "100"]
    result = train_with_torchrun(
        *uneven, "--batch-size", "100", "--device", "cpu", "--out", out, data_dir=data_dir, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "2 process(es)" in result.stdout
    assert result.stdout.count("epoch 1/1  train loss") == 1  # only rank 0 reports
    assert load_checkpoint(out).history["train_images"] == [1004]  # 502 per rank: one digit seen twice


def test_ctrl_c_keeps_the_last_complete_epoch(data_dir, tmp_path):
    import signal
    import time

    out = tmp_path / "interrupted.pt"
    env = child_env(RESNET_DATA_DIR=str(data_dir))
    args = ["train", "--epochs", "50", "--train-subset", "256", "--test-subset", "100", "--device", TEST_DEVICE]
    process = subprocess.Popen(
        [sys.executable, "-m", "resnet_core", *args, "--out", str(out)],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_ctrl_c_as_in_a_terminal,
    )
    deadline = time.monotonic() + 240
    while not out.exists() and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.2)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    assert f"the last complete epoch is saved in {out}; continue with --resume {out}" in stderr
    assert "Traceback" not in stderr
    saved = load_checkpoint(out)
    assert saved.epoch >= 1 and all(saved.history["complete"])
    assert saved.history["epoch"] == list(range(1, saved.epoch + 1))


def _one_line_error(result, message, code=2):
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert result.stderr.startswith("error: ") and message in result.stderr


@pytest.mark.parametrize("where", ["an existing folder", "under a file", "a pipe"])
def test_train_refuses_an_out_it_could_not_write_before_training(data_dir, tmp_path, where):
    (tmp_path / "notes.txt").write_text("a file, not a folder")
    os.mkfifo(tmp_path / "pipe")
    out, message = {
        "an existing folder": (tmp_path, "it is a folder. Name a file in it"),
        "under a file": (tmp_path / "notes.txt" / "model.pt", f"{tmp_path / 'notes.txt'} is a file, not a folder"),
        "a pipe": (tmp_path / "pipe", "it is not a regular file"),
    }[where]
    result = run_cli("train", *TINY_RUN, "--arch", "resnet8", "--out", out, data_dir=data_dir)
    _one_line_error(result, f"error: Cannot save to {out}: {message}")
    assert "training" not in result.stdout and "epoch" not in result.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt", "pipe"]


def _train_resnet8(folder, data_dir, *flags):
    out = folder / "resnet8.pt"
    result = run_cli("train", *TINY_RUN, "--arch", "resnet8", *flags, "--out", out, data_dir=data_dir)
    assert result.returncode == 0, result.stderr
    return out


@pytest.fixture(scope="module")
def resnet8_full(data_dir, tmp_path_factory):
    """A tiny ResNet-8 run saved with its resume state."""
    return _train_resnet8(tmp_path_factory.mktemp("full"), data_dir)


@pytest.fixture(scope="module")
def resnet8_slim(data_dir, tmp_path_factory):
    """The same run saved with --no-resume-state."""
    return _train_resnet8(tmp_path_factory.mktemp("slim"), data_dir, "--no-resume-state")


def test_no_resume_state_keeps_weights_and_curves_in_a_third_of_the_size(resnet8_full, resnet8_slim):
    full, slim = load_checkpoint(resnet8_full), load_checkpoint(resnet8_slim)
    assert resnet8_slim.stat().st_size < 0.4 * resnet8_full.stat().st_size
    assert slim.training_state is None and full.training_state["optimizer"]["state"]
    assert slim.history["epoch"] == [1] == full.history["epoch"]
    assert slim.config == full.config and slim.metrics["test_samples"] == 200
    for key, value in full.model.state_dict().items():  # same seed, same run: the same weights
        assert torch.equal(value, slim.model.state_dict()[key])


def test_resuming_a_slim_checkpoint_says_it_cannot_be(resnet8_slim, data_dir, tmp_path):
    result = run_cli(
        "train", "--resume", resnet8_slim, "--epochs", "2", "--out", tmp_path / "more.pt", data_dir=data_dir
    )
    _one_line_error(
        result,
        "was saved with --no-resume-state: it holds the weights and training curves but not the optimiser state",
    )
    assert "epoch" not in result.stdout


def _edited(path, tmp_path, change):
    payload = torch.load(path, weights_only=True)
    change(payload)
    torch.save(payload, tmp_path / "edited.pt")
    return tmp_path / "edited.pt"


def _history_without_complete(payload):
    for history in (payload["history"], payload["training_state"]["history"]):
        history.pop("complete", None)


@pytest.mark.parametrize(
    "change, flags, message",
    [
        (lambda p: p["training_state"].update(optimizer=None), [], "holds no usable optimiser state"),
        (_history_without_complete, [], "training history is damaged (no 'complete')"),
        (lambda p: None, ["--arch", "resnet20"], "--arch cannot change a resumed run: "),
        (lambda p: None, ["--no-residual"], "--no-residual cannot change a resumed run: "),
        (lambda p: None, ["--stem", "imagenet"], "--stem cannot change a resumed run: "),
    ],
)
def test_resume_refuses_what_it_cannot_go_on_from(resnet8_full, data_dir, tmp_path, change, flags, message):
    resume = _edited(resnet8_full, tmp_path, change)
    result = run_cli(
        "train", "--resume", resume, "--epochs", "2", *flags, "--out", tmp_path / "more.pt", data_dir=data_dir
    )
    _one_line_error(result, message)
    assert not (tmp_path / "more.pt").exists()


@pytest.mark.parametrize("command", ["evaluate", "predict"])
@pytest.mark.parametrize(
    "kwargs, built",
    [({"in_chans": 3}, "3-channel images and 10 classes"), ({"num_classes": 11}, "1-channel images and 11 classes")],
)
def test_evaluate_and_predict_refuse_a_model_for_other_images(data_dir, tmp_path, command, kwargs, built):
    checkpoint = save_checkpoint(tmp_path / "other.pt", resnet8(**kwargs), TrainConfig(arch="resnet8"))
    Image.fromarray(np.eye(28, dtype=np.uint8) * 255).save(tmp_path / "line.png")
    args = ["--test-subset", "100", "--device", TEST_DEVICE] if command == "evaluate" else [tmp_path / "line.png"]
    result = run_cli(command, "--checkpoint", checkpoint, *args, data_dir=data_dir)
    _one_line_error(result, f"This model was built for {built}; MNIST needs 1-channel 28×28 images and 10 classes")


@pytest.mark.parametrize(
    "command, kind, message",
    [
        ("evaluate", "a folder", "is a folder, not a checkpoint file"),
        ("predict", "a dangling link", "No checkpoint file at"),
        ("evaluate", "an empty file", "not a readable PyTorch checkpoint"),
        ("predict", "a text file", "not a readable PyTorch checkpoint"),
        ("evaluate", "a plain state dict", "not a ResNet Explorer checkpoint"),
        ("predict", "a pipe", "No checkpoint file at"),
        ("train", "an empty file", "not a readable PyTorch checkpoint"),
    ],
)
def test_a_bad_checkpoint_file_is_one_line_for_every_command(data_dir, tmp_path, command, kind, message):
    path = bad_checkpoint(tmp_path, kind)
    args = {
        "evaluate": ["--checkpoint", path, "--device", TEST_DEVICE],
        "predict": ["--checkpoint", path, tmp_path / "digit.png"],
        "train": ["--resume", path, "--out", tmp_path / "out.pt"],
    }[command]
    result = run_cli(command, *args, data_dir=data_dir, timeout=120)  # a pipe opened would hang: the timeout fails it
    _one_line_error(result, message)


def _png_header(width, height):
    """A PNG of a few bytes whose header claims width x height pixels: a decompression bomb's opening."""

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b"")


def test_predict_reports_a_decompression_bomb_and_bad_paths_and_goes_on(cli_checkpoint, mnist_test, tmp_path):
    out, _ = cli_checkpoint
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(_png_header(30_000, 30_000))
    folder = tmp_path / "folder.png"
    folder.mkdir()
    dangling = tmp_path / "dangling.png"
    dangling.symlink_to(tmp_path / "gone.png")
    good = tmp_path / "digit.png"
    Image.fromarray(np.kron(mnist_test[0][0].numpy(), np.ones((4, 4), np.uint8))).save(good)
    result = run_cli("predict", "--checkpoint", out, bomb, folder, dangling, good)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    errors = result.stderr.strip().splitlines()
    assert len(errors) == 3
    assert errors[0].startswith(f"error: {bomb}: The image is far larger than the limit of 16,777,216 pixels")
    assert errors[1].startswith(f"error: {folder}: ") and errors[2].startswith(f"error: {dangling}: ")
    assert result.stdout.startswith(f"{good}: ") and len(result.stdout.strip().splitlines()) == 1


def test_a_reader_that_goes_away_ends_the_output_quietly():
    # `python -m resnet_core archs | head -0`: the pipe is closed before the first line is written.
    env = child_env()
    process = subprocess.Popen(
        [sys.executable, "-m", "resnet_core", "archs"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=REPO,
    )
    process.stdout.close()
    _, stderr = process.communicate(timeout=300)
    assert process.returncode == 141 and stderr == b""


def _interrupted(args, data_dir, started):
    """Run the CLI, press Ctrl-C once `started` (a stdout line's beginning) is printed; (exit code, stderr)."""
    env = child_env(RESNET_DATA_DIR=str(data_dir))
    process = subprocess.Popen(
        [sys.executable, "-m", "resnet_core", *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=REPO,
        preexec_fn=_ctrl_c_as_in_a_terminal,
    )
    line = process.stdout.readline()
    assert line.startswith(started), line
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    return process.returncode, stderr


def test_ctrl_c_during_predict_ends_without_a_traceback(cli_checkpoint, mnist_test, data_dir, tmp_path):
    out, _ = cli_checkpoint
    digit = tmp_path / "digit.png"
    Image.fromarray(mnist_test[0][0].numpy()).save(digit)
    # Enough images that it is still predicting when the first lines reach the (block-buffered) pipe.
    code, stderr = _interrupted(["predict", "--checkpoint", out, *[digit] * 5000], data_dir, f"{digit}: ")
    assert code == 130 and stderr.strip() == "interrupted" and "Traceback" not in stderr


def test_ctrl_c_before_the_first_epoch_does_not_offer_an_older_file_to_resume(data_dir, tmp_path):
    out = tmp_path / "earlier.pt"
    save_checkpoint(out, resnet18())
    before = out.read_bytes()
    # All 60,000 digits: the first epoch takes minutes on a CPU, the Ctrl-C comes in seconds.
    args = ["train", "--epochs", "2", "--test-subset", "100", "--device", TEST_DEVICE, "--out", out]
    code, stderr = _interrupted(args, data_dir, "training resnet18")
    assert code == 130 and "Traceback" not in stderr
    assert "interrupted: no epoch had completed, nothing saved" in stderr and "--resume" not in stderr
    assert out.read_bytes() == before
