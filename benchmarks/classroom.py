"""A class at once: N students, each in their own browser session of one server, draw digits and watch a run.

    RESNET_DATA_DIR=... python -m benchmarks.classroom [--sessions 10 20 30] [--pinned] [--memory-rounds N]
        [--app-dir DIR]
One `streamlit run app.py` and one headless Chromium with a phone-sized context (a session) per student.
For each class size N:
- drawing, idle: all N open Draw & Predict and draw a different MNIST test digit in one stroke at the
  same moment; each waits for its answer. Server CPU per drawing is the server's CPU over the round / N.
- watching: the teacher starts the Residual Lab's twins on all digits and goes to another page; for
  WATCH_SECONDS nobody watches, then all N open the run's link and watch it for as long. The
  server's threads are read one by one: the run's threads' CPU, and everything else (the watchers'
  pages), per watcher and second. The run's slowdown is its threads' CPU rate watched against
  unwatched. The teacher stops it, and the same again with a Long run on the Train page.
- drawing while training: all N open Draw & Predict afresh and draw again while the run goes on.
Latency is from the end of the stroke (mouse up) to the answer on screen, timed in the page. The
server's memory (VmRSS) is read before any session, after one warm-up session, with each class open
and once every class has left (after the server's disconnected-session TTL); --memory-rounds N lets
N classes come and go in turn, to tell memory a class leaves behind from memory the next one reuses.
--pinned puts the server on core 0 and this script with Chromium on the other cores, as in a room where every student's
browser runs on their own phone: the server's own cost is then not hidden by the browsers'.
--app-dir serves another checkout (say, an older commit in a git worktree) to compare with.
CLASSROOM_TTL (seconds, default 120) is how long the server keeps a closed session's state, when it is
served with another server.disconnectedSessionTTL: the memory after a class left is read 15 s after it.
Chromium starts before the server, as a class's phones have their browsers open: the cold start is the
server's own, from its start to its first usable Draw page.
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
    TEACHER_CODE,
    one_stroke_digits,
    serve_app,
)

TIMEOUT_MS = 300_000  # per wait: 30 sessions on 2 cores queue for a long time, and a miss is reported, not fatal
# A step has been reported: the progress bar reads "epoch 1/1", not "starting…".
TRAINING_JS = (
    "() => [...document.querySelectorAll('[data-testid=stProgress]')].some(p => /epoch \\d/.test(p.innerText))"
)
TWINS_JS = "() => [...document.querySelectorAll('[data-testid=stProgress]')].some(p => /step [1-9]/.test(p.innerText))"
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


VIEWPORT = {"width": 390, "height": 844}  # a phone, as students have
WATCH_SECONDS = 20
DISCONNECTED_TTL = int(
    os.environ.get("CLASSROOM_TTL", 120)
)  # Streamlit's server.disconnectedSessionTTL default: a closed session's state goes after it


def thread_cpu(pid: int) -> dict[int, float]:
    """User + system CPU seconds of each thread of a process so far."""
    used = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
            used[int(task.name)] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError):
            continue
    return used


def thread_deltas(before: dict[int, float], after: dict[int, float]) -> dict[int, float]:
    return {tid: t - before.get(tid, 0.0) for tid, t in after.items()}


def server_cpu(pid: int) -> float:
    return sum(cpu_seconds(process_tree(pid)).values())


async def open_page(context, url: str, path: str, ready: str):
    page = await context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    await page.goto(f"{url}/{path}", wait_until="domcontentloaded")
    await page.locator(ready).first.wait_for()
    return page


async def open_draw_page(context, url: str):
    page = await open_page(context, url, "draw", CANVAS)
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


async def draw_all(pages, digits) -> list[Answer]:
    return await asyncio.gather(
        *(draw_and_read(page, label, stroke) for page, (_, label, stroke) in zip(pages, digits))
    )


async def sign_in(page) -> None:
    """Sign in as the teacher, whose runs have no time limit."""
    await page.locator("[data-testid=stSidebar] summary").filter(has_text="Teacher").click()
    await page.get_by_label("Teacher code", exact=True).fill(TEACHER_CODE)
    await page.get_by_role("button", name="Sign in").click()


async def start_training(context, url: str):
    """The teacher (whose runs have no time limit) starts a Long run on the Train page, waits for its
    first step, then goes to Overview (in the app, so the session and its run stay) and stops polling.
    Returns the page and the run's link."""
    page = await context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    await page.goto(f"{url}/train", wait_until="domcontentloaded")
    await sign_in(page)
    await page.get_by_text("Long: all 55,000 digits").click()
    await page.get_by_role("button", name="Start training").first.click()
    await page.wait_for_function(TRAINING_JS)
    link = page.url
    await page.locator("[data-testid=stSidebarNav]").get_by_role("link", name="Overview").click()
    return page, link


async def stop_training(page) -> None:
    """Stop the run from the page that started it, unless it has ended by now."""
    await page.locator("[data-testid=stSidebarNav]").get_by_role("link", name="Train").click()
    stop = page.get_by_test_id("stButton").get_by_role("button", name="Stop")
    await stop.or_(page.get_by_text("Use this run's model")).or_(page.get_by_text("Training finished")).first.wait_for()
    if await stop.count():  # the run then tests its weights so far: the next class does not wait for that
        await stop.click()
        await page.get_by_text("Stopping after the current step").or_(page.get_by_text("kept")).first.wait_for()


async def start_twins(context, url: str):
    """The teacher starts the Residual Lab's twins on all 60,000 digits (minutes long), waits for its
    first step, then goes to Overview. Returns the page and the run's link."""
    page = await context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    await page.goto(f"{url}/residual_lab", wait_until="domcontentloaded")
    await sign_in(page)
    await page.get_by_label("Training digits", exact=True).click()
    await page.get_by_role("option", name="all 60,000 digits").click()
    # These settings open on results measured in advance: the twins' "Run it live" (section 1's) trains them.
    await page.get_by_role("button", name="Run it live").first.click()
    await page.wait_for_function(TWINS_JS)
    link = page.url
    await page.locator("[data-testid=stSidebarNav]").get_by_role("link", name="Overview").click()
    return page, link


async def stop_twins(page) -> None:
    await page.locator("[data-testid=stSidebarNav]").get_by_role("link", name="Residual Lab").click()
    stop = page.get_by_test_id("stButton").get_by_role("button", name="Stop")
    await stop.wait_for()
    await stop.click()
    await page.get_by_text("Stopping after the current step").first.wait_for()


async def watch(pid: int, seconds: float) -> tuple[float, dict[int, float]]:
    """The server's CPU seconds over `seconds`: in all (threads that ended meanwhile included, as a
    script run's can), and of each thread still there."""
    total, threads = server_cpu(pid), thread_cpu(pid)
    await asyncio.sleep(seconds)
    return server_cpu(pid) - total, thread_deltas(threads, thread_cpu(pid))


async def errors_shown(pages) -> int:
    return sum(await asyncio.gather(*(page.locator(ERRORS).count() for page in pages)))


def answered(answers: list[Answer]) -> list[float]:
    return [answer.ms for answer in answers if answer.ms is not None]


@dataclass
class Watching:
    cpu_share: float  # of one core, all N watchers together
    ms_per_second: float  # per watcher
    run_slowdown: float  # 1 - the run's CPU rate watched / unwatched


async def watching(pid: int, pages, link: str) -> Watching:
    """The server's CPU while nobody watches the run at `link`, then while all `pages` watch it."""
    total_alone, alone = await watch(pid, WATCH_SECONDS)
    run_threads = {tid for tid, used in alone.items() if used > 0.2 * WATCH_SECONDS}
    await asyncio.gather(*(page.goto(link, wait_until="domcontentloaded") for page in pages))
    await asyncio.gather(*(page.get_by_text("only they can stop it").first.wait_for() for page in pages))
    total_watched, watched = await watch(pid, WATCH_SECONDS)
    run_alone = sum(alone[tid] for tid in run_threads)
    run_watched = sum(watched.get(tid, 0.0) for tid in run_threads)
    # What the watchers added: all but the run's threads, less what that was with nobody watching.
    watchers_cpu = (total_watched - run_watched) - (total_alone - run_alone)
    return Watching(
        watchers_cpu / WATCH_SECONDS,
        1000 * watchers_cpu / WATCH_SECONDS / len(pages),
        1 - run_watched / run_alone if run_alone else float("nan"),
    )


@dataclass
class ClassResult:
    sessions: int
    idle: list[Answer]
    training: list[Answer]
    cpu_ms_per_drawing: float
    train_watchers: Watching  # a run on the Train page
    lab_watchers: Watching  # the Residual Lab's twins
    errors: int


async def one_class(browser, url: str, pid: int, sessions: int, digits) -> ClassResult:
    contexts = [await browser.new_context(viewport=VIEWPORT, is_mobile=True, has_touch=True) for _ in range(sessions)]
    pages = await asyncio.gather(*(open_draw_page(context, url) for context in contexts))
    before = server_cpu(pid)
    idle = await draw_all(pages, digits)
    cpu_ms_per_drawing = 1000 * (server_cpu(pid) - before) / sessions
    errors = await errors_shown(pages)

    teacher_context = await browser.new_context(viewport={"width": 1280, "height": 900})
    teacher, twins_link = await start_twins(teacher_context, url)
    await asyncio.sleep(3)  # the Overview page settles
    lab_watchers = await watching(pid, pages, twins_link)
    errors += await errors_shown(pages)
    await stop_twins(teacher)

    await teacher.close()
    teacher, link = await start_training(teacher_context, url)
    await asyncio.sleep(3)
    train_watchers = await watching(pid, pages, link)
    errors += await errors_shown(pages)

    await asyncio.gather(*(page.close() for page in pages))
    pages = await asyncio.gather(*(open_draw_page(context, url) for context in contexts))
    training = await draw_all(pages, digits)
    errors += await errors_shown(pages)
    await stop_training(teacher)
    for context in [*contexts, teacher_context]:
        await context.close()
    return ClassResult(sessions, idle, training, cpu_ms_per_drawing, train_watchers, lab_watchers, errors)


def p50_p95(answers: list[Answer]) -> str:
    samples = answered(answers)
    if not samples:
        return "-"
    median, p95 = median_p95(samples)
    return f"{median / 1000:.1f} s / {p95 / 1000:.1f} s"


def right(answers: list[Answer]) -> str:
    return f"{sum(answer.correct for answer in answers)}/{len(answers)}"


async def come_and_go(browser, url: str, pid: int, digits) -> dict[str, float]:
    """The server's memory as a class opens Draw & Predict, draws, and leaves."""
    rss = {"before the class": rss_mib(pid)}
    contexts = [await browser.new_context(viewport=VIEWPORT, is_mobile=True, has_touch=True) for _ in digits]
    pages = await asyncio.gather(*(open_draw_page(context, url) for context in contexts))
    await draw_all(pages, digits)
    rss[f"with all {len(digits)} open, each having drawn"] = rss_mib(pid)
    for context in contexts:
        await context.close()
    await asyncio.sleep(DISCONNECTED_TTL + 15)  # Streamlit drops a closed session's state after the TTL
    rss[f"{DISCONNECTED_TTL + 15} s after they left"] = rss_mib(pid)
    return rss


async def classroom(args: argparse.Namespace, server_cpus: str | None) -> None:
    load_before = os.getloadavg()[0]  # other work on the machine slows every session
    images, labels = load_split("mnist", train=False)
    class_sizes = args.sessions
    digits = one_stroke_digits(images, labels, max(class_sizes))
    results = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        launched = time.perf_counter()
        # A checkpoints folder of its own: nothing saved elsewhere shows up in the model lists.
        with (
            tempfile.TemporaryDirectory() as checkpoints,
            serve_app(data_dir(), checkpoints, cpus=server_cpus, app_dir=args.app_dir) as server,
        ):
            url, pid = server.url, server.pid
            rss = {"before any session": rss_mib(pid)}
            warm_up = await browser.new_context(viewport=VIEWPORT)
            first_page = await open_draw_page(warm_up, url)
            cold_start = time.perf_counter() - launched
            first = await draw_and_read(first_page, *digits[0][1:])
            await warm_up.close()
            rss["after a warm-up session (closed)"] = rss_mib(pid)
            for round_ in range(args.memory_rounds):
                left = await come_and_go(browser, url, pid, digits)
                rss |= {f"{what} ({round_ + 1})" if args.memory_rounds > 1 else what: mib for what, mib in left.items()}
            for sessions in class_sizes:
                results.append(await one_class(browser, url, pid, sessions, digits[:sessions]))
                print(f"  {sessions} sessions measured: {results[-1]}", flush=True)
        await browser.close()

    print(f"machine: {machine()}; load average at the start {load_before:.2f}, at the end {os.getloadavg()[0]:.2f}")
    where = (
        "the server on core 0, Chromium on the others"
        if server_cpus is not None
        else "server and Chromium sharing all cores"
    )
    print(f"one server, one Chromium, a phone-sized context per session ({where})")
    print("model: the starter ResNet-20; digits: MNIST test digits drawn in one stroke each")
    print(
        "| sessions | server CPU per drawing | stroke → answer, idle, p50 / p95 | while one run trains, p50 / p95 "
        "| right answers |"
    )
    print("| ---: | ---: | ---: | ---: | ---: |")
    for r in results:
        print(
            f"| {r.sessions} | {r.cpu_ms_per_drawing:.0f} ms | {p50_p95(r.idle)} | {p50_p95(r.training)} "
            f"| {right(r.idle)} and {right(r.training)} |"
        )
    print("| sessions watching | the run | their CPU, all together (share of one core) | per watcher | run slowed by |")
    print("| ---: | --- | ---: | ---: | ---: |")
    for r in results:
        for what, w in (("Train page, a Long run", r.train_watchers), ("Residual Lab, the twins", r.lab_watchers)):
            print(
                f"| {r.sessions} | {what} | {100 * w.cpu_share:.0f}% | {w.ms_per_second:.1f} ms/s "
                f"| {100 * w.run_slowdown:.0f}% |"
            )
    print(f"tracebacks on the pages: {sum(r.errors for r in results)}")
    print(f"server started -> its first Draw page usable (canvas on screen): {cold_start:.1f} s")
    print(f"first answer on that fresh server: {first.ms / 1000 if first.ms else float('nan'):.1f} s after the stroke")
    for what, mib in rss.items():
        print(f"server RSS {what:<45}{mib:>8.0f} MiB")
    opened = next(mib for what, mib in rss.items() if what.startswith("with all"))
    before = next(mib for what, mib in rss.items() if what.startswith("before the class"))
    print(f"per session (the first class): {(opened - before) / max(class_sizes):.1f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, nargs="+", default=[10, 20, 30], help="class sizes, in turn")
    parser.add_argument("--pinned", action="store_true", help="server on core 0, browsers on the other cores")
    parser.add_argument(
        "--memory-rounds", type=int, default=1, help="classes that come and go in turn before the timed ones"
    )
    parser.add_argument("--app-dir", type=Path, default=REPO, help="the checkout to serve (default: this one)")
    args = parser.parse_args()
    if not (args.app_dir / "assets" / "starter-resnet20.pt").is_file():
        parser.error(f"{args.app_dir}/assets/starter-resnet20.pt is missing: without it a session has no model")
    cores = sorted(os.sched_getaffinity(0))
    if args.pinned:
        if len(cores) < 2:
            parser.error("--pinned needs two cores or more: one for the server, the rest for the browsers")
        os.sched_setaffinity(0, cores[1:])  # this script, Playwright's driver and Chromium: not the server's core
    asyncio.run(classroom(args, str(cores[0]) if args.pinned else None))


if __name__ == "__main__":
    main()
