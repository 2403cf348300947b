"""Shared fixtures: the real MNIST files, and one ResNet-18 trained once per test session."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from resnet_core.data.datasets import RAW_FILES, load_split

REPO = Path(__file__).resolve().parents[1]
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
CANVAS = 280  # the Draw page's canvas, in pixels
# Where the tests train and evaluate: the CPU, or "cuda" when a GPU machine runs the suite
# (RESNET_TEST_DEVICE=cuda, as benchmarks/gpu_check.sh does) so every device path meets a real GPU.
TEST_DEVICE = os.environ.get("RESNET_TEST_DEVICE", "cpu")


def child_env(**variables: str) -> dict[str, str]:
    """This environment for a child process, with the project first on PYTHONPATH (what was there stays)."""
    path = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p)
    return {**os.environ, "PYTHONPATH": path, **variables}


def digit_on_canvas(digit: np.ndarray | torch.Tensor, size: int, top: int, left: int) -> np.ndarray:
    """An MNIST digit (28, 28) uint8 scaled to size x size, white on the black opaque RGBA canvas."""
    digit = torch.as_tensor(digit).float()[None, None]
    scaled = F.interpolate(digit, size=(size, size), mode="bilinear")[0, 0]
    canvas = np.zeros((CANVAS, CANVAS, 4), np.uint8)
    canvas[..., 3] = 255
    canvas[top : top + size, left : left + size, :3] = scaled.clamp(0, 255).round().byte().numpy()[..., None]
    return canvas


def bad_checkpoint(folder: Path, kind: str, name: str = "model.pt") -> Path:
    """A path named like a checkpoint that is none: "a folder", "a dangling link", "an empty file",
    "a text file", "a plain state dict" or "a pipe" (opened, it would wait for a writer for ever)."""
    path = folder / name
    if kind == "a folder":
        path.mkdir()
    elif kind == "a dangling link":
        path.symlink_to(folder / "gone.pt")
    elif kind == "an empty file":
        path.write_bytes(b"")
    elif kind == "a text file":
        path.write_text("not a checkpoint\n")
    elif kind == "a plain state dict":
        from resnet_core.networks.resnet import resnet8

        torch.save(resnet8().state_dict(), path)
    elif kind == "a pipe":
        os.mkfifo(path)
    else:
        raise ValueError(f"Unknown kind {kind!r}.")
    return path


def _missing_data() -> str | None:
    """Why the MNIST files cannot be read from RESNET_DATA_DIR; None when they can."""
    folder = os.environ.get("RESNET_DATA_DIR")
    if not folder:
        return "RESNET_DATA_DIR is not set: point it at a folder holding MNIST/raw/ (the four IDX files)."
    missing = [name for name in RAW_FILES if not (Path(folder) / "MNIST" / "raw" / name).is_file()]
    if missing:
        return f"RESNET_DATA_DIR={folder} lacks MNIST/raw/{missing[0]} (and {len(missing) - 1} more)."
    return None


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The folder RESNET_DATA_DIR names; the tests fail in CI and skip elsewhere when it lacks MNIST."""
    problem = _missing_data()
    if problem is not None:
        if IN_CI:
            pytest.fail(problem)
        pytest.skip(problem)
    return Path(os.environ["RESNET_DATA_DIR"])


def new_session():
    """A fresh browser session of the app, through Streamlit's AppTest."""
    from streamlit.testing.v1 import AppTest

    return AppTest.from_file(str(REPO / "app.py"), default_timeout=120)


@pytest.fixture
def app(data_dir, monkeypatch, tmp_path):
    """A session of the app on the real MNIST files, saving checkpoints to a folder of its own."""
    monkeypatch.setenv("RESNET_DATA_DIR", str(data_dir))
    monkeypatch.setenv("RESNET_CHECKPOINT_DIR", str(tmp_path / "checkpoints"))
    return new_session()


@pytest.fixture(scope="session")
def mnist_test(data_dir) -> tuple[torch.Tensor, torch.Tensor]:
    return load_split("mnist", train=False, data_dir=data_dir, download=False)


@pytest.fixture(scope="session")
def trained_resnet18(data_dir):
    """ResNet-18 trained one epoch on 10,000 real training digits, and its plain test accuracy on 2,000."""
    from resnet_core.training.config import recipe
    from resnet_core.training.runner import run_training

    config = recipe(
        "fast", epochs=1, train_subset=10_000, validation_size=500, test_subset=2_000, device=TEST_DEVICE, seed=0
    )
    result = run_training(config, data_dir)
    return result


@pytest.fixture(scope="session")
def lab(data_dir):
    """Real digits on the test device for the Residual Lab: 1,000 training and 500 test digits."""
    from resnet_core.depth_study.twins import lab_data

    return lab_data(train_subset=1_000, test_subset=500, device=TEST_DEVICE, data_dir=data_dir)


@pytest.fixture(scope="session")
def trained_twins(lab):
    """ResNet-8 and its plain twin, trained together for three epochs on the lab's 1,000 digits."""
    from resnet_core.depth_study.twins import TwinRun, default_twin_config

    run = TwinRun(default_twin_config("resnet8", device=TEST_DEVICE, epochs=3), lab, evaluations=2)
    run.run()
    return run
