"""The benchmark scripts run end to end on tiny subsets on the CPU, so a run on a GPU machine can trust them."""

import subprocess
import sys

from tests.conftest import REPO, child_env

# Packages the GPU machine's image lacks (device tool's KINDS.md): its run must not import them.
NOT_ON_THE_GPU_MACHINE = ("torchinfo", "streamlit", "plotly", "streamlit_drawable_canvas")
RUN_WITHOUT_THEM = (
    "import runpy, sys\n"
    f"for name in {NOT_ON_THE_GPU_MACHINE!r}: sys.modules[name] = None  # import of it fails\n"
    "sys.argv = ['benchmarks.gpu', *sys.argv[1:]]\n"
    "runpy.run_module('benchmarks.gpu', run_name='__main__', alter_sys=True)\n"
)


def test_gpu_benchmark_smoke_run_reports_every_figure_with_only_the_gpu_machines_packages(data_dir):
    env = child_env(RESNET_DATA_DIR=str(data_dir))
    command = [sys.executable, "-c", RUN_WITHOUT_THEM, "--smoke", "--seeds", "2", "--workers", "0"]
    result = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    assert "baseline pipeline, num_workers=0:" in out
    assert "baseline, classic recipe, num_workers=0:" in out
    assert "ours, classic recipe:" in out and "classic recipe, baseline / ours training time:" in out
    assert "seed 0:" in out and "seed 1:" in out
    assert "fast recipe, mean of 2 seeds:" in out


def test_gpu_benchmark_without_a_gpu_says_what_to_do(data_dir):
    env = child_env(RESNET_DATA_DIR=str(data_dir), CUDA_VISIBLE_DEVICES="")
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.gpu"], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode != 0
    assert "No CUDA device here" in result.stderr and "--smoke" in result.stderr


def test_accuracy_levers_smoke_run_measures_the_variant_and_its_averaged_weights(data_dir):
    env = child_env(RESNET_DATA_DIR=str(data_dir))
    command = [sys.executable, "-m", "benchmarks.accuracy_levers", "--smoke", "--variant", "scale"]
    result = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "scale, seed 0, epoch 1: test" in result.stdout and "averaged weights" in result.stdout


def test_cpu_precision_smoke_run_compares_both_arithmetics(data_dir):
    env = child_env(RESNET_DATA_DIR=str(data_dir))
    command = [sys.executable, "-m", "benchmarks.cpu_precision", "--smoke"]
    result = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    line = next(line for line in result.stdout.splitlines() if line.startswith("resnet18, imagenet stem: fp32 "))
    assert "images/s, bf16 autocast " in line and "bf16 / fp32 " in line


def test_pipeline_benchmark_compares_both_pipelines_and_the_bare_loop_in_turns(data_dir):
    env = child_env(RESNET_DATA_DIR=str(data_dir))
    command = [sys.executable, "-m", "benchmarks.pipeline", "--steps", "2", "--turn", "2"]
    result = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    assert "2 timed steps of batch 128 per side, in turns of 2 steps" in out
    for workers in (0, 1, 2):
        assert f"DataLoader baseline, num_workers={workers}: " in out
    assert "same batches: bare loop " in out and "augmentation per sample: PIL " in out


def test_residual_lab_smoke_run_reports_recording_cost_twins_and_sweep(data_dir):
    env = child_env(RESNET_DATA_DIR=str(data_dir))
    command = [sys.executable, "-m", "benchmarks.residual_lab", "--smoke"]
    result = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    assert "resnet8 residual every 10: off" in out and "resnet8 plain    every 10: off" in out
    assert "twin run (resnet8 and its plain twin, 320 digits, 1 epoch)" in out
    assert "resnet8 residual train loss" in out and "resnet8 plain    train loss" in out
    assert "gradient at the first block / at the last" in out
    assert "lesions, residual: intact" in out and "lesions, plain: intact" in out
    assert "depth   8: train loss residual" in out and "depth  20: train loss residual" in out


def test_time_to_accuracy_smoke_run_reports_the_sprint_and_its_plain_twin(data_dir):
    env = child_env(RESNET_DATA_DIR=str(data_dir))
    command = [sys.executable, "-m", "benchmarks.time_to_accuracy", "--smoke"]
    result = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    assert "sprint, seed 0: test " in out and "sprint, plain twin, seed 0: test " in out
    assert "validation checks " in out and "sprint, mean of 1 seeds: test " in out
