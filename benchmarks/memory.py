"""Peak memory (RSS) of `streamlit run app.py`: idle, during a CPU training run, after predicting,
then after more runs than the server keeps finished (ui.jobs.registry.JobRegistry).

    RESNET_DATA_DIR=path/to/data python -m benchmarks.memory [--extra-runs N]
Drives the app with Playwright and Debian's Chromium; reads the server's VmRSS/VmHWM from /proc.
"""

from __future__ import annotations

import argparse
import tempfile

from benchmarks.common import data_dir, machine
from tests.e2e.harness import CANVAS, choose, chromium, draw, serve_app, stop_button, wait_until_idle
from ui.jobs.registry import JobRegistry

# One more run than the registry keeps finished, all in one session (which keeps only its
# latest run), so the last ones show whether the server's memory levels off.
EXTRA_RUNS = JobRegistry().keep_finished + 1


def memory_mb(pid: int) -> dict[str, float]:
    with open(f"/proc/{pid}/status") as f:
        fields = dict(line.split(":", 1) for line in f)
    return {key: round(int(fields[key].split()[0]) / 1024) for key in ("VmRSS", "VmHWM")}


def _open(page, name: str) -> None:
    page.locator("[data-testid=stSidebarNav]").get_by_role("link", name=name, exact=True).click()
    wait_until_idle(page)


def _predict(page) -> None:
    """Draw a 1 with the trained model and wait for the prediction."""
    _open(page, "Draw & Predict")
    page.locator(CANVAS).wait_for()
    draw(page, [[(140, 40), (140, 240)]])
    page.locator("[data-testid=stMetric]", has_text="Prediction").wait_for()


def _train_small_run(page) -> None:
    """One more 1,000-image ResNet-18 run in the same session, to its results."""
    _open(page, "Train")
    choose(page, "Training set", "1,000 images (seconds)")
    page.get_by_role("button", name="Start training").click()
    # The page still shows the last run's "Training finished" until this one is under way.
    stop_button(page).wait_for(timeout=120_000)
    stop_button(page).wait_for(state="detached", timeout=600_000)
    page.get_by_text("Training finished").wait_for(timeout=60_000)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--extra-runs", type=int, default=EXTRA_RUNS, help="1,000-image runs after the first")
    extra_runs = parser.parse_args().extra_runs
    with (
        tempfile.TemporaryDirectory() as checkpoints,
        serve_app(data_dir(), checkpoints) as server,
        chromium() as browser,
    ):
        print(f"machine: {machine()}")
        print(f"server started:                 {memory_mb(server.pid)}")
        page = browser.new_page()
        page.set_default_timeout(120_000)
        page.goto(server.url)
        wait_until_idle(page)
        for name in ("Architecture", "Train", "Draw & Predict", "Feature Maps", "Overview"):
            _open(page, name)
        print(f"idle, every page opened:        {memory_mb(server.pid)}")
        _open(page, "Train")
        page.get_by_role("button", name="Start training").click()
        page.get_by_text("Training finished").wait_for(timeout=600_000)
        print(f"after a 5,000-digit CPU run:    {memory_mb(server.pid)}")
        _predict(page)
        print(f"after drawing a digit:          {memory_mb(server.pid)}")
        for run in range(1, extra_runs + 1):
            _train_small_run(page)
            print(f"after {run:2} more 1,000-image run(s): {memory_mb(server.pid)}")


if __name__ == "__main__":
    main()
