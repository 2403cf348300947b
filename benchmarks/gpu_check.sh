#!/usr/bin/env bash
# Everything a CUDA machine checks, in one run: the tests with their models on the GPU
# (RESNET_TEST_DEVICE=cuda: library, CLI and every page through AppTest; the browser tests need
# Chromium and stay on the CPU machine), then the speed figures of benchmarks.gpu. Logs go to $OUT
# (or /tmp/gpu-check). Needs pytest-xdist and pytest-timeout there.
#
# Prepared on a machine with internet, from the project's root, for a GPU machine without it:
#   mkdir -p .gpu-data/MNIST/raw && cp path/to/data/MNIST/raw/*-ubyte .gpu-data/MNIST/raw && gzip -f .gpu-data/MNIST/raw/*-ubyte  # ~11 MB
#   pip download --no-deps --only-binary=:all: --python-version 3.12 --platform manylinux2014_x86_64 \
#       -d .whl streamlit plotly torchinfo captum streamlit-drawable-canvas ...   # what the GPU machine lacks
# Then there, with .gpu-data and .whl beside the code:
#   bash benchmarks/gpu_check.sh [SECONDS_FOR_TESTS] [SECONDS_FOR_SPEED]     (SPEED_ARGS: benchmarks.gpu's)
set -u
out=${OUT:-/tmp/gpu-check}
mkdir -p "$out"
test_seconds=${1:-200}
speed_seconds=${2:-220}

if compgen -G ".whl/*.whl" >/dev/null; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
    export PYTHONPATH=/tmp/site
fi
for packed in .gpu-data/MNIST/raw/*.gz; do
    [ -e "$packed" ] && gunzip -kf "$packed"
done
export RESNET_DATA_DIR=$PWD/.gpu-data RESNET_TEST_DEVICE=cuda PYTHONUNBUFFERED=1 OMP_NUM_THREADS=2
nvidia-smi -L
python3 -c "import torch; print('torch', torch.__version__, torch.cuda.get_device_name(0))"

echo "== tests on cuda (library, CLI, every page through AppTest; no browser here)"
timeout -s INT -k 20 "$test_seconds" python3 -m pytest tests --ignore=tests/e2e --deselect tests/test_dependencies.py \
    -q -p no:cacheprovider -n 14 --timeout 120 -o addopts="" -rfE --tb=short 2>&1 | tee "$out/tests.log" | grep -E "^(FAILED|ERROR)|passed|failed" | cut -c1-300

echo "== speed"
timeout "$speed_seconds" python3 -m benchmarks.gpu ${SPEED_ARGS:---workers 4 8} 2>&1 | tee "$out/speed.log"
