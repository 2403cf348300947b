"""Peak memory (RSS) of `streamlit run app.py`: idle, during a CPU training run, predicting compiled,
then after more runs than the server keeps finished (ui.jobs.JobRegistry).

    RESNET_DATA_DIR=../shared/data python -m benchmarks.memory [--extra-runs N]
Drives the app with Playwright and Debian's Chromium; reads the server's VmRSS/VmHWM from /proc.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import time

from playwright.sync_api import sync_playwright

from benchmarks.common import REPO, data_dir, machine
from tests.e2e.conftest import (
    CANVAS,
    CHROMIUM,
    CHROMIUM_ARGS,
    _free_port,
    _wait_healthy,
    choose,
    draw,
    server_command,
    stop_button,
    wait_until_idle,
)
from ui.jobs import JobRegistry

# One more run than the registry keeps finished, all in one session (which keeps only its
# latest run), so the last ones show whether the server's memory levels off.
EXTRA_RUNS = JobRegistry().keep_finished + 1


def memory_mb(pid: int) -> dict[str, float]:
    with open(f"/proc/{pid}/status") as f:
        fields = dict(line.split(":", 1) for line in f)
    return {key: int(fields[key].split()[0]) / 1024 for key in ("VmRSS", "VmHWM")}


def _predict_until_compiled(page, seconds: float = 180) -> None:
    """Draw a 1 with the trained model, then reopen the page until its predictor is the compiled one."""
    nav = page.locator("[data-testid=stSidebarNav]")
    nav.get_by_role("link", name="Draw & Predict", exact=True).click()
    page.locator(CANVAS).wait_for()
    draw(page, [[(140, 40), (140, 240)]])
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        wait_until_idle(page)
        if page.get_by_text("compiled with torch.compile").count():
            return
        page.wait_for_timeout(2000)
        nav.get_by_role("link", name="Draw & Predict", exact=True).click()  # the drawing is kept
    raise TimeoutError(f"the Draw page did not switch to the compiled model within {seconds} s")


def _train_small_run(page) -> None:
    """One more 1,000-image ResNet-18 run in the same session, to its results."""
    page.locator("[data-testid=stSidebarNav]").get_by_role("link", name="Train", exact=True).click()
    wait_until_idle(page)
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
    port = _free_port()
    env = dict(os.environ, RESNET_DATA_DIR=data_dir(), PYTHONPATH=str(REPO))
    server = subprocess.Popen(
        server_command(port),
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, server)
        print(f"machine: {machine()}")
        print(f"server started:                 {memory_mb(server.pid)}")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page()
            page.set_default_timeout(120_000)
            page.goto(url)
            wait_until_idle(page)
            for name in ("Architecture", "Train", "Draw & Predict", "Feature Maps", "Overview"):
                page.locator("[data-testid=stSidebarNav]").get_by_role("link", name=name, exact=True).click()
                wait_until_idle(page)
            print(f"idle, every page opened:        {memory_mb(server.pid)}")
            page.locator("[data-testid=stSidebarNav]").get_by_role("link", name="Train", exact=True).click()
            page.get_by_role("button", name="Start training").click()
            page.get_by_text("Training finished").wait_for(timeout=600_000)
            print(f"after a 5,000-digit CPU run:    {memory_mb(server.pid)}")
            _predict_until_compiled(page)
            print(f"after drawing, compiled model:  {memory_mb(server.pid)}")
            for run in range(1, extra_runs + 1):
                _train_small_run(page)
                print(f"after {run:2} more 1,000-image run(s): {memory_mb(server.pid)}")
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=20)


if __name__ == "__main__":
    main()
