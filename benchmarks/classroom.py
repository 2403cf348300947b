"""A class at once: N students, each in their own browser session of one server, draw a digit and read the answer.

    RESNET_DATA_DIR=../shared/data python -m benchmarks.classroom [--sessions 20]
One `streamlit run app.py` and one headless Chromium with a context (a session) per student. Idle: every
session opens Draw & Predict, all draw a different MNIST test digit in one stroke at once, and each waits
for its prediction; then each opens Feature Maps and waits for its chart. Training: one more session
starts a run on the Train page (its defaults) and, while it trains, the same students draw again in
fresh sessions. Latency is from the end of the stroke (mouse up) to the answer on screen, timed in the
page. The server's memory (VmRSS of it and its children) is read before any session, after one
warm-up session (modules imported, model loaded) and with all N open. Every session draws with the
starter model (assets/starter-resnet20.pt) that each has from its first second: no setup in the page.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import async_playwright

from benchmarks.common import REPO, data_dir, machine, median_p95
from resnet_core.data.datasets import load_split
from tests.e2e.harness import (
    CANVAS,
    CHROMIUM,
    CHROMIUM_ARGS,
    PREDICTION_JS,
    STROKE_CLOCK_JS,
    one_stroke_digits,
    serve_app,
)

STARTER = REPO / "assets" / "starter-resnet20.pt"
VIEWPORT = {"width": 1280, "height": 900}
TIMEOUT_MS = 300_000  # per wait: 30 sessions on 2 cores queue for a long time, and a miss is reported, not fatal
# The Feature Maps page's channel grid, drawn: its title is "<layer>: <k> of <C> channels".
FEATURE_CHART_JS = (
    "() => [...document.querySelectorAll('.js-plotly-plot .gtitle')].some(t => t.textContent.includes('channels'))"
)
# A step has been reported: the progress bar reads "epoch 1/1", not "starting…".
TRAINING_JS = (
    "() => [...document.querySelectorAll('[data-testid=stProgress]')].some(p => /epoch \\d/.test(p.innerText))"
)
ERRORS = "[data-testid=stException]"


@dataclass
class Answer:
    label: int
    digit: str | None = None  # as shown; None when none came within TIMEOUT_MS
    ms: float | None = None  # stroke end -> answer on screen

    @property
    def correct(self) -> bool:
        return self.digit == str(self.label)


def process_tree(pid: int) -> list[int]:
    """pid and all its descendants, as far as they are still running."""
    found, pending = [], [pid]
    while pending:
        current = pending.pop()
        found.append(current)
        try:
            for task in Path(f"/proc/{current}/task").iterdir():
                pending += [int(child) for child in (task / "children").read_text().split()]
        except OSError:  # it ended meanwhile
            continue
    return found


def rss_mib(pid: int) -> float:
    """VmRSS of a process and all its descendants, in MiB."""
    total_kb = 0
    for current in process_tree(pid):
        try:
            with open(f"/proc/{current}/status") as f:
                total_kb += next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
        except (OSError, StopIteration):  # it ended meanwhile (or is a zombie, without VmRSS)
            continue
    return total_kb / 1024


def cpu_seconds(pids: list[int]) -> dict[int, float]:
    """User + system CPU seconds each process has used so far (one that has ended is left out)."""
    used = {}
    for current in pids:
        try:
            with open(f"/proc/{current}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()  # after "pid (name)": state is field 3
            used[current] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime
        except (OSError, IndexError):
            continue
    return used


class CpuMeter:
    """Wall time and CPU seconds of the server and of the client side (this script, Playwright's driver,
    Chromium) since the last lap: which of the two the machine's cores were busy with. A process that
    ends within a lap (a closed page's renderer) loses its time since the last lap: a small undercount."""

    def __init__(self, server_pid: int) -> None:
        self.server_pid = server_pid
        self.laps: list[tuple[str, float, float, float]] = []
        self._at, self._server, self._client = self._read()

    def _read(self) -> tuple[float, dict[int, float], dict[int, float]]:
        server = process_tree(self.server_pid)
        client = [pid for pid in process_tree(os.getpid()) if pid not in server]
        return time.perf_counter(), cpu_seconds(server), cpu_seconds(client)

    def lap(self, what: str) -> None:
        now, server, client = self._read()
        used = [
            sum(t - before.get(pid, 0.0) for pid, t in after.items())
            for before, after in ((self._server, server), (self._client, client))
        ]
        self.laps.append((what, now - self._at, *used))
        self._at, self._server, self._client = now, server, client


async def open_draw_page(context, url: str):
    page = await context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    await page.goto(f"{url}/draw", wait_until="domcontentloaded")
    await page.locator(CANVAS).wait_for()
    await page.evaluate(STROKE_CLOCK_JS)
    return page


async def draw_stroke(page, stroke: list[tuple[int, int]]) -> None:
    """harness.draw for the async API, one stroke: points are a pen step (10 px) apart, one mouse move each."""
    canvas = page.locator(CANVAS)
    await canvas.scroll_into_view_if_needed()
    box = await canvas.bounding_box()
    await page.mouse.move(box["x"] + stroke[0][0], box["y"] + stroke[0][1])
    await page.mouse.down()
    for x, y in stroke[1:]:
        await page.mouse.move(box["x"] + x, box["y"] + y)
    await page.mouse.up()


async def draw_and_read(page, label: int, stroke: list[tuple[int, int]]) -> Answer:
    await draw_stroke(page, stroke)
    try:
        shown = await (await page.wait_for_function(PREDICTION_JS)).json_value()
    except PlaywrightError as err:  # a timeout or a closed page: this student got no answer
        print(f"  no answer for a drawn {label}: {type(err).__name__}: {str(err).splitlines()[0]}")
        return Answer(label)
    return Answer(label, shown["digit"], shown["ms"])


async def open_feature_maps(page) -> float | None:
    """Seconds from the click on Feature Maps (same session, so it shows the drawing) to its chart."""
    started = time.perf_counter()
    await page.locator("[data-testid=stSidebarNav]").get_by_role("link", name="Feature Maps").click()
    try:
        await page.wait_for_function(FEATURE_CHART_JS)
    except PlaywrightError as err:
        print(f"  Feature Maps chart missing: {type(err).__name__}: {str(err).splitlines()[0]}")
        return None
    return time.perf_counter() - started


async def draw_all(pages, digits) -> list[Answer]:
    return await asyncio.gather(
        *(draw_and_read(page, label, stroke) for page, (_, label, stroke) in zip(pages, digits))
    )


async def start_training(context, url: str):
    """A session that presses Start training with the Train page's defaults; returns once a step is reported."""
    page = await context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    await page.goto(f"{url}/train", wait_until="domcontentloaded")
    await page.get_by_role("button", name="Start training").first.click()
    await page.wait_for_function(TRAINING_JS)
    return page


async def still_training(page) -> bool:
    """The Train page's own Stop button (not the header's, while a script runs) shows while the run goes on."""
    return await page.get_by_test_id("stButton").get_by_role("button", name="Stop").count() > 0


async def errors_shown(pages) -> int:
    return sum(await asyncio.gather(*(page.locator(ERRORS).count() for page in pages)))


def latency_row(what: str, samples: list[float]) -> tuple[float, float] | None:
    if not samples:
        print(f"{what:<52}{'-':>10}{'-':>10}")
        return None
    median, p95 = median_p95(samples)
    print(f"{what:<52}{median:>10.0f}{p95:>10.0f}")
    return median, p95


def answered(answers: list[Answer]) -> list[float]:
    return [answer.ms for answer in answers if answer.ms is not None]


async def classroom(url: str, pid: int, sessions: int) -> None:
    load_before = os.getloadavg()[0]  # other work on the machine slows every session
    images, labels = load_split("mnist", train=False)
    digits = one_stroke_digits(images, labels, sessions)
    rss = {"before any session": rss_mib(pid)}
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        warm_up = await browser.new_context(viewport=VIEWPORT)
        await draw_and_read(await open_draw_page(warm_up, url), *digits[0][1:])
        await warm_up.close()
        rss["after a warm-up session (closed)"] = rss_mib(pid)

        contexts = [await browser.new_context(viewport=VIEWPORT) for _ in range(sessions)]
        cpu = CpuMeter(pid)
        pages = await asyncio.gather(*(open_draw_page(context, url) for context in contexts))
        cpu.lap(f"open {sessions} Draw pages at once, to a canvas each")
        idle = await draw_all(pages, digits)
        cpu.lap("all draw (one stroke each) until all have answers, idle")
        feature_s = await asyncio.gather(*(open_feature_maps(page) for page in pages))
        cpu.lap("all open Feature Maps, until all charts are drawn")
        rss[f"with all {sessions} sessions open"] = rss_mib(pid)
        idle_errors = await errors_shown(pages)

        # Fresh sessions, so each draws on an empty canvas again; the trainer starts once all are ready.
        await asyncio.gather(*(page.close() for page in pages))
        pages = await asyncio.gather(*(open_draw_page(context, url) for context in contexts))
        trainer = await start_training(await browser.new_context(viewport=VIEWPORT), url)
        cpu.lap("open them again (new sessions); one more starts training")
        training = await draw_all(pages, digits)
        cpu.lap("all draw again while one session trains")
        trained_throughout = await still_training(trainer)
        training_errors = await errors_shown([*pages, trainer])
        await browser.close()

    print(f"machine: {machine()}; load average at the start {load_before:.2f}, at the end {os.getloadavg()[0]:.2f}")
    print(f"{sessions} sessions: one server, one Chromium, a context each ({VIEWPORT['width']}x{VIEWPORT['height']})")
    print(f"model: the starter ResNet-20; digits: MNIST test #{', #'.join(str(index) for index, _, _ in digits)}")
    print(f"{'what':<52}{'p50 ms':>10}{'p95 ms':>10}")
    idle_stats = latency_row("stroke end -> prediction on screen, idle", answered(idle))
    latency_row("Feature Maps click -> chart drawn", [1000 * s for s in feature_s if s is not None])
    training_stats = latency_row("stroke end -> prediction, one session training", answered(training))
    for name, answers in (("idle", idle), ("while training", training)):
        right = sum(answer.correct for answer in answers)
        wrong = [f"{answer.label}->{answer.digit}" for answer in answers if answer.digit and not answer.correct]
        print(
            f"correct answers, {name}: {right}/{sessions} (answered {len(answered(answers))}/{sessions}"
            + (f"; drawn->shown {', '.join(wrong)}" if wrong else "")
            + ")"
        )
    print(f"Feature Maps charts drawn: {sum(s is not None for s in feature_s)}/{sessions}")
    print(f"tracebacks on the pages: idle {idle_errors}, while training {training_errors}")
    print(f"training still running when the last answer came: {'yes' if trained_throughout else 'NO'}")
    for what, mib in rss.items():
        print(f"server RSS {what:<40}{mib:>8.0f} MiB")
    after = rss[f"with all {sessions} sessions open"]
    print(
        f"server RSS per session: {(after - rss['before any session']) / sessions:.1f} MiB from before any session, "
        f"{(after - rss['after a warm-up session (closed)']) / sessions:.1f} MiB from after the warm-up"
    )
    print(f"{'phase':<60}{'wall s':>8}{'server CPU s':>14}{'client CPU s':>14}")
    for what, wall, server_cpu, client_cpu in cpu.laps:
        print(f"{what:<60}{wall:>8.1f}{server_cpu:>14.1f}{client_cpu:>14.1f}")
    print(
        f"(client: this script, Playwright's driver and Chromium; {os.cpu_count()} cores give {os.cpu_count()} CPU s/s)"
    )
    if idle_stats and training_stats:
        ratio = training_stats[1] / idle_stats[1]
        print(f"p95 while training / idle: {ratio:.2f}x (goal < 2x: {'met' if ratio < 2 else 'NOT met'})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=20, help="students drawing at once")
    args = parser.parse_args()
    if not STARTER.is_file():
        parser.error(f"{STARTER} is missing: without it a session has no model to draw with")
    # A checkpoints folder of its own: nothing saved elsewhere shows up in the model lists.
    with tempfile.TemporaryDirectory() as checkpoints, serve_app(data_dir(), checkpoints) as server:
        asyncio.run(classroom(server.url, server.pid, args.sessions))


if __name__ == "__main__":
    main()
