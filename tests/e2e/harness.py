"""A real `streamlit run app.py` server and a real Chromium, for the browser tests and the benchmarks alike.

with serve_app(data_dir, checkpoint_dir) as server, chromium() as browser:
    page = browser.new_page(); page.goto(server.url)
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import REPO, child_env

TEACHER_CODE = "e2e-teacher"  # the served app's teacher code (RESNET_TEACHER_CODE)

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Where a confusion-matrix cell (true, predicted) is on the screen, from Plotly's own axes.
CELL_CENTRE_JS = """(plot, [t, p]) => {
    const xa = plot._fullLayout.xaxis, ya = plot._fullLayout.yaxis, box = plot.getBoundingClientRect();
    return [box.left + xa._offset + xa.d2p(String(p)), box.top + ya._offset + ya.d2p(String(t))];
}"""

# The drawing surface of streamlit-drawable-canvas 0.13 (Components v2: no iframe).
CANVAS = "[data-testid=stBidiComponentIsolated] canvas.upper-canvas"


@dataclass(frozen=True)
class Server:
    url: str
    pid: int  # of the streamlit process, for reading its memory


def server_command(port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        "app.py",
        "--server.port",
        str(port),
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        # No file watching: an edited module would be re-imported mid-run (with fresh caches).
        "--server.fileWatcherType",
        "none",
        "--server.runOnSave",
        "false",
    ]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_healthy(url: str, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(f"streamlit did not become healthy at {url} within {timeout} s")


@contextlib.contextmanager
def serve_app(
    data_dir: Path | str, checkpoint_dir: Path | str | None = None, cpus: str | None = None, app_dir: Path = REPO
) -> Iterator[Server]:
    """`streamlit run app.py` on a free port; yields once /_stcore/health answers, stops it after.

    cpus: the cores the server may use ("0"), as taskset takes them; None: any.
    app_dir: the checkout to serve (another commit's, to compare with).
    """
    port = _free_port()
    env = child_env(RESNET_DATA_DIR=str(data_dir), RESNET_TEACHER_CODE=TEACHER_CODE)
    env["PYTHONPATH"] = os.pathsep.join([str(app_dir), env["PYTHONPATH"]])
    if checkpoint_dir is not None:
        env["RESNET_CHECKPOINT_DIR"] = str(checkpoint_dir)
    command = server_command(port) if cpus is None else ["taskset", "-c", cpus, *server_command(port)]
    process = subprocess.Popen(command, cwd=app_dir, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, process)
        yield Server(url, process.pid)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


@contextlib.contextmanager
def chromium():
    """Debian's Chromium, headless, driven by Playwright; FileNotFoundError when it is not installed."""
    if not Path(CHROMIUM).is_file():
        raise FileNotFoundError(f"Chromium not found at {CHROMIUM}: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


# Every chart drawn at its container's width, every picture decoded: what a screenshot should show.
DRAWN_JS = """() => [...document.querySelectorAll('.js-plotly-plot')]
        .every(p => p._fullLayout && Math.abs(p._fullLayout.width - p.getBoundingClientRect().width) < 2)
    && [...document.querySelectorAll('[data-testid=stMain] img')].every(i => i.complete)"""


def wait_until_drawn(page, timeout: float = 30_000) -> None:
    """Wait until every chart is drawn for the current width and every picture is decoded."""
    page.wait_for_function(DRAWN_JS, timeout=timeout)


def wait_until_idle(page, timeout: float = 60_000) -> None:
    """Wait until the script run is over (no running indicator, no placeholder skeletons) and drawn."""
    page.wait_for_selector("[data-testid=stApp]", timeout=timeout)
    page.wait_for_function(
        """() => {
            const status = document.querySelector('[data-testid=stStatusWidget]');
            const running = status && /Running|Stop/i.test(status.innerText);  // Streamlit 1.67 shows an icon and Stop
            return !running && document.querySelectorAll('[data-testid=stSkeleton]').length === 0;
        }""",
        timeout=timeout,
    )
    wait_until_drawn(page, timeout)


def choose(page, label: str, option: str) -> None:
    """Pick an option of a Streamlit selectbox by its label."""
    page.get_by_label(label, exact=True).click()
    page.get_by_role("option", name=option).click()


def model_in_use(page):
    """The sidebar's "Model in use" box (its value is the chosen model's name and test accuracy)."""
    return page.locator("[data-testid=stSidebar] input[aria-label='Model in use']")


def stop_button(page):
    """The Train page's Stop button (not the Stop in Streamlit's header while a script runs)."""
    return page.get_by_test_id("stButton").get_by_role("button", name="Stop")


def draw(page, strokes: list[list[tuple[int, int]]], box: dict | None = None) -> None:
    """Draw strokes (lists of canvas pixel positions) on the Draw page's canvas with the mouse.

    box: where the canvas is on the screen; by default where it is now. A finger put down the moment
    Clear is pressed lands where the canvas was, whichever canvas is there.
    """
    # After Undo or Clear the canvas is a new one; the old one lingers hidden for a moment.
    box = box or page.locator(f"{CANVAS} >> visible=true").bounding_box()
    for stroke in strokes:
        page.mouse.move(box["x"] + stroke[0][0], box["y"] + stroke[0][1])
        page.mouse.down()
        for (x0, y0), (x, y) in zip(stroke, stroke[1:]):
            # A pen step at most 10 px long, as a hand's moves come: one step per point of a dense path.
            steps = max(1, math.ceil(math.dist((x0, y0), (x, y)) / 10))
            page.mouse.move(box["x"] + x, box["y"] + y, steps=steps)
        page.mouse.up()


# Neighbours in the order the pen tries them: straight on before diagonal keeps the path tidy.
_PEN_STEPS = ((0, 1), (1, 0), (0, -1), (-1, 0), (1, 1), (1, -1), (-1, 1), (-1, -1))


def digit_stroke(digit, threshold: int = 128, scale: int = 10) -> list[tuple[int, int]] | None:
    """A (28, 28) uint8 MNIST digit -> one pen stroke through all its ink, in canvas pixels (28 * scale square).

    A depth-first walk over the ink pixels that steps back over what it drew (retracing adds no ink), so
    a student's single stroke covers the whole digit. None when the ink is in pieces (it needs more strokes).
    """
    rows, cols = (digit >= threshold).nonzero()
    ink = set(zip(rows.tolist(), cols.tolist()))
    if not ink:
        return None
    start = min(ink)  # the top row's leftmost pixel
    seen, stack, path, useful = {start}, [start], [start], 1
    while stack:
        row, col = stack[-1]
        ahead = [(row + dr, col + dc) for dr, dc in _PEN_STEPS]
        step = next((pixel for pixel in ahead if pixel in ink and pixel not in seen), None)
        if step is None:
            stack.pop()
            path.extend(stack[-1:])
            continue
        seen.add(step)
        stack.append(step)
        path.append(step)
        useful = len(path)  # the walk back to the start after the last new pixel draws nothing
    if len(seen) < len(ink):
        return None
    return [(col * scale + scale // 2, row * scale + scale // 2) for row, col in path[:useful]]


def one_stroke_digits(images, labels, count: int) -> list[tuple[int, int, list[tuple[int, int]]]]:
    """(test index, label, stroke) of the first `count` MNIST digits that one stroke draws, labels taking
    turns 0, 1, ..., 9, 0, ... so that neighbours in the list are different digits."""
    unread = {label: iter((labels == label).nonzero().flatten().tolist()) for label in range(10)}
    found: list[tuple[int, int, list[tuple[int, int]]]] = []
    while len(found) < count:
        label = len(found) % 10
        stroke = None
        while stroke is None:
            index = next(unread[label])  # a class runs dry only past ~1,000 digits
            stroke = digit_stroke(images[index].numpy())
        found.append((index, label, stroke))
    return found


# Stamps when the last stroke ended (mouse up anywhere on the page); PREDICTION_JS times from it.
STROKE_CLOCK_JS = "() => window.addEventListener('mouseup', () => { window.strokeEndedAt = performance.now(); }, true)"
# The Draw page's answer once it is on screen: {digit, ms since the stroke ended}; null before.
# Polled every animation frame by page.wait_for_function, so `ms` includes the browser drawing it.
PREDICTION_JS = """() => {
    const metric = [...document.querySelectorAll('[data-testid=stMetric]')].find(m => m.innerText.includes('Prediction'));
    const value = metric && metric.querySelector('[data-testid=stMetricValue]');
    const digit = value && value.innerText.trim();
    return digit ? {digit, ms: performance.now() - window.strokeEndedAt} : null;
}"""


def open_another_mistake(page, matrix) -> None:
    """Click a confusion-matrix cell holding mistakes other than the one shown, and wait until its images
    are announced with their count ("True 4, read as 9: 3 test digits"). matrix: the chart's locator."""
    shown = page.get_by_text(re.compile(r"^True \d, read as \d")).inner_text()
    matrix.scroll_into_view_if_needed()  # a click lands only on what is on the screen
    counts = matrix.evaluate("plot => plot.data[2].text")  # row by row: true 0 (predicted 0..9), true 1, ...
    true, predicted = next(
        divmod(i, 10)
        for i, n in enumerate(counts)
        if n and i // 10 != i % 10 and f"True {i // 10}, read as {i % 10}" not in shown
    )
    x, y = matrix.evaluate(CELL_CENTRE_JS, [true, predicted])
    page.mouse.move(x, y)
    page.mouse.click(x, y)
    page.get_by_text(f"True {true}, read as {predicted}: {int(counts[true * 10 + predicted]):,} test digit").wait_for()
    wait_until_idle(page)
