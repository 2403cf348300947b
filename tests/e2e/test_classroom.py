"""Two students at once, in their own sessions of one server: each draws a different digit and sees
its own answer, never the other's. benchmarks.classroom does the same for a whole class, timed."""

from resnet_core.data.datasets import load_split
from tests.e2e.harness import CANVAS, PREDICTION_JS, draw, one_stroke_digits


def test_two_students_drawing_at_once_each_see_their_own_digit(browser, app_url, data_dir):
    images, labels = load_split("mnist", train=False, data_dir=data_dir)
    digits = one_stroke_digits(images, labels, 2)  # MNIST test digits: a 0 and a 1
    contexts = [browser.new_context(viewport={"width": 1280, "height": 900}) for _ in digits]
    try:
        pages = [context.new_page() for context in contexts]
        for page in pages:  # a session each, both open before either draws; the starter model is there at once
            page.goto(f"{app_url}/draw", wait_until="domcontentloaded", timeout=90_000)
            page.locator(CANVAS).wait_for(timeout=60_000)
        for page, (_, _, stroke) in zip(pages, digits):
            draw(page, [stroke])  # both draw before either answer is read
        drawn = [str(label) for _, label, _ in digits]
        shown = [page.wait_for_function(PREDICTION_JS, timeout=60_000).json_value()["digit"] for page in pages]
        assert shown == drawn
        assert [page.evaluate(PREDICTION_JS)["digit"] for page in pages] == drawn  # still each its own, both in
        assert all(page.locator("[data-testid=stException]").count() == 0 for page in pages)
    finally:
        for context in contexts:
            context.close()
