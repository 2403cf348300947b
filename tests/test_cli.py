"""The command line, run as a user runs it: a real `python -m resnet_core` process."""

import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from resnet_core.checkpoints import load_checkpoint
from resnet_core.cli import build_parser
from resnet_core.data import load_split
from tests.conftest import REPO

TINY_RUN = ["--epochs", "1", "--train-subset", "512", "--test-subset", "200", "--batch-size", "64", "--device", "cpu"]


def run_cli(*args, data_dir=None, module=("-m", "resnet_core"), launcher=(sys.executable,), timeout=300):
    env = dict(os.environ, PYTHONPATH=str(REPO))
    if data_dir is not None:
        env["RESNET_DATA_DIR"] = str(data_dir)
    return subprocess.run(
        [*launcher, *module, *map(str, args)], capture_output=True, text=True, env=env, cwd=REPO, timeout=timeout
    )


@pytest.fixture(scope="module")
def cli_checkpoint(data_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "tiny.pt"
    result = run_cli("train", *TINY_RUN, "--out", out, data_dir=data_dir)
    assert result.returncode == 0, result.stderr
    return out, result


def test_train_prints_progress_and_epoch_summary_and_saves(cli_checkpoint):
    out, result = cli_checkpoint
    assert "epoch 1/1 [" in result.stderr and "img/s" in result.stderr
    assert "epoch 1/1  train loss" in result.stdout and "val loss" in result.stdout
    assert f"on 200 digits; saved {out}" in result.stdout
    assert "(imagenet stem) on CPU" in result.stdout
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
    evaluated = run_cli("evaluate", "--checkpoint", out, "--test-subset", "200", "--device", "cpu", data_dir=data_dir)
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
    tiny = ["--recipe", "fast", "--epochs", "1", "--train-subset", "128", "--test-subset", "100", "--batch-size", "64"]
    assert run_cli("train", *tiny, "--device", "cpu", "--out", out, data_dir=data_dir).returncode == 0
    result = run_cli("train", "--resume", out, "--epochs", "3", "--out", tmp_path / "longer.pt", data_dir=data_dir)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "cannot be lengthened" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    again = run_cli("train", "--resume", out, "--epochs", "1", data_dir=data_dir)
    assert again.returncode == 2 and "has trained 1 epoch(s) already: pass --epochs with more than that" in again.stderr


def test_old_names_of_stems_and_recipes_still_work_and_precision_is_a_flag():
    old = run_cli("summary", "--arch", "resnet18", "--stem", "mnist", "--depth", "1")
    assert old.returncode == 0 and "parameters 11,175,370" in old.stdout
    help_text = run_cli("train", "--help").stdout
    assert "--precision {auto,fp32,bf16}" in help_text and "--stem {imagenet,medium,small}" in help_text
    assert "{classic,fast}" in help_text
    parsed = build_parser().parse_args(["train", "--recipe", "spec", "--stem", "mnist", "--precision", "bf16"])
    assert (parsed.recipe, parsed.stem, parsed.precision) == ("classic", "imagenet", "bf16")


def test_evaluate_reports_accuracy_and_per_class(cli_checkpoint, data_dir):
    out, _ = cli_checkpoint
    result = run_cli("evaluate", "--checkpoint", out, "--test-subset", "200", "--device", "cpu", data_dir=data_dir)
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
    from resnet_core.checkpoints import save_checkpoint
    from resnet_core.models import resnet18

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


def test_torchrun_trains_with_two_cpu_processes_on_their_shards(data_dir, tmp_path):
    out = tmp_path / "ddp.pt"
    result = train_with_torchrun(*TINY_RUN, "--out", out, data_dir=data_dir)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "2 process(es)" in result.stdout
    assert result.stdout.count("epoch 1/1  train loss") == 1  # only rank 0 reports
    checkpoint = load_checkpoint(out)
    # 256 images per rank per epoch, summed over both ranks.
    assert checkpoint.history["train_images"] == [512]


def test_torchrun_with_shards_of_unequal_size_finishes(data_dir, tmp_path):
    # 1,003 digits at batch 100 on 2 processes: unpadded, the ranks get 502 and 501 (6 batches and,
    # without its batch of one, 5), and the one with more would wait forever in its gradient all-reduce.
    out = tmp_path / "uneven.pt"
    uneven = ["--epochs", "1", "--train-subset", "1003", "--test-subset", "100", "--batch-size", "100"]
    result = train_with_torchrun(*uneven, "--device", "cpu", "--out", out, data_dir=data_dir, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert load_checkpoint(out).history["train_images"] == [1004]  # 502 per rank: one digit seen twice


def test_ctrl_c_keeps_the_last_complete_epoch(data_dir, tmp_path):
    import signal
    import time

    out = tmp_path / "interrupted.pt"
    env = dict(os.environ, PYTHONPATH=str(REPO), RESNET_DATA_DIR=str(data_dir))
    args = ["train", "--epochs", "50", "--train-subset", "256", "--test-subset", "100", "--device", "cpu"]
    process = subprocess.Popen(
        [sys.executable, "-m", "resnet_core", *args, "--out", str(out)],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
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
