"""Two students at once, in their own sessions of one server: each draws a different digit and sees
its own answer, never the other's. benchmarks.classroom does the same for a whole class, timed."""

from playwright.sync_api import expect

from resnet_core.data.datasets import load_split
from tests.e2e.harness import CANVAS, PREDICTION_JS, draw, one_stroke_digits, wait_until_idle


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


ONE = [(140, 40), (140, 250)]
SEVEN = [(70, 50), (210, 50), (120, 250)]


def test_a_digit_drawn_right_after_clear_on_a_phone_is_answered_every_time(browser, app_url):
    """Ten digits on a phone, each drawn the moment Clear is pressed, while the page may still be
    rerunning: every one reaches the model, and its answer shows on the same screen as the canvas."""
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    try:
        page = context.new_page()
        page.goto(f"{app_url}/draw", wait_until="domcontentloaded", timeout=90_000)
        page.locator(CANVAS).wait_for(timeout=60_000)
        wait_until_idle(page)
        prediction = page.locator("[data-testid=stMetric]", has_text="Prediction")
        canvas_at = page.locator(CANVAS).bounding_box()
        answered = []
        for position in range(10):
            label, stroke = (1, ONE) if position % 2 == 0 else (7, SEVEN)  # each answer differs from the last
            if position:
                page.get_by_role("button", name="Clear").click(no_wait_after=True)
            draw(page, [stroke], box=canvas_at)  # where the canvas is, whichever canvas is there now
            expect(prediction.get_by_test_id("stMetricValue")).to_have_text(str(label), timeout=60_000)
            answered.append(label)
            screen = page.viewport_size["height"]
            canvas = page.locator(f"{CANVAS} >> visible=true").bounding_box()
            answer = prediction.bounding_box()  # the digit and how sure, together
            assert canvas["y"] >= 0 and answer["y"] + answer["height"] <= screen  # both on one screen
        assert answered == [1, 7] * 5
        assert page.locator("[data-testid=stException]").count() == 0
    finally:
        context.close()


def test_every_example_drawn_right_after_add_as_an_example_is_kept(browser, app_url):
    """On Teach it, a student presses "Add as an example" and draws the next example at once, six
    times: every drawing becomes an example, none is wiped by the canvas emptying for the next."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        page.goto(f"{app_url}/teach", wait_until="domcontentloaded", timeout=90_000)
        page.locator(CANVAS).wait_for(timeout=60_000)
        wait_until_idle(page)
        add = page.get_by_role("button", name="Add as an example of circle")
        draw(page, [ONE])
        for added in range(1, 6):
            add.click(no_wait_after=True)
            draw(page, [SEVEN if added % 2 else ONE])  # at once, while the page reruns
            expect(page.get_by_text(f"circle: {added} ")).to_be_visible(timeout=60_000)
        add.click()  # the last drawing, drawn while the page reran, is there to add
        expect(page.get_by_text("circle: 6 ")).to_be_visible(timeout=60_000)
        wait_until_idle(page)
        expect(add).to_be_disabled()  # the canvas is empty, and a taken drawing is not offered again
        assert page.locator("[data-testid=stException]").count() == 0
    finally:
        context.close()
