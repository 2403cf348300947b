"""Every page on a projector (1400×1000) and on a phone (390×844, touch): renders without an exception,
readable, nothing off the side, photographed from the top and at full length (RESNET_SCREENSHOTS=docs/screenshots writes the README's)."""

import pytest
from playwright.sync_api import expect

from tests.e2e.harness import CANVAS, draw, wait_until_drawn, wait_until_idle

# Every page: its path and a text that is on it once it has rendered.
PAGES = {
    "overview": ("", "ResNet Explorer"),
    "convolution": ("convolution", "whole map"),
    "architecture": ("architecture", "Layer table"),
    "train": ("train", "Start training"),
    "draw": ("draw", "Draw & Predict"),
    "feature_maps": ("feature_maps", "Feature Maps"),
    "mistakes": ("mistakes", "Why it fails"),
    "teach": ("teach", "Teach it"),
    "runs": ("runs", "What the accuracy cost"),
    "residual_lab": ("residual_lab", "Residual Lab"),
}
VIEWS = {
    "projector": dict(viewport={"width": 1400, "height": 1000}),
    "phone": dict(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True, has_touch=True),
}
MIN_DIAGRAM_TEXT_PX = 14  # on the projector
MIN_TABLE_TEXT_PX = 16  # the plain tables' cells, as body text
MIN_CHART_TEXT_PX = 14  # charts' tick labels
MIN_NOTE_TEXT_PX = 18  # the teacher's sentences, a size up from body text
# Each chart tick label's size in px and its colour's brightest channel (0-255): dark text reads on a projector.
CHART_TICKS_JS = """() => Array.from(document.querySelectorAll('.js-plotly-plot .xtick text, .js-plotly-plot .ytick text'))
    .map(t => [parseFloat(getComputedStyle(t).fontSize), Math.max(...getComputedStyle(t).fill.match(/\\d+/g).map(Number))])"""
DARKEST_TEXT = 100  # Streamlit's body text is rgb(49, 51, 63); its charts' own grey, rgb(128, 132, 149), is too light
NOTE = "[class*=st-key-teacher-note]"  # a teacher's note (ui.teacher_note): every page has one
NOTE_TEXT_PX_JS = """() => Array.from(document.querySelectorAll('[class*=st-key-teacher-note] p'))
    .map(p => parseFloat(getComputedStyle(p).fontSize))"""
TABLE_TEXT_PX_JS = """() => Array.from(document.querySelectorAll('[data-testid=stTable] td, [data-testid=stTable] th'))
    .map(cell => parseFloat(getComputedStyle(cell).fontSize))"""
# Rendered size of each Graphviz label: its font size times the drawing's scale on screen.
DIAGRAM_TEXT_PX_JS = """() => Array.from(document.querySelectorAll('[data-testid=stGraphVizChart] svg text'))
    .map(t => parseFloat(getComputedStyle(t).fontSize) * t.getScreenCTM().a)"""
OVERFLOW_JS = "() => document.documentElement.scrollWidth - window.innerWidth"
VISIBLE_MODEBARS_JS = """() => Array.from(document.querySelectorAll('.modebar-container'))
    .filter(m => m.getBoundingClientRect().height > 0 && getComputedStyle(m).display !== 'none').length"""
MAIN_HEIGHT_JS = "() => document.querySelector('[data-testid=stMain]').scrollHeight"


def photograph(page, folder, name: str) -> None:
    """The first screen as a visitor sees it, and the whole page (the viewport stretched to its length)."""
    page.screenshot(path=folder / f"{name}.png")
    size = page.viewport_size
    page.set_viewport_size({"width": size["width"], "height": min(page.evaluate(MAIN_HEIGHT_JS) + 60, 8000)})
    wait_until_drawn(page)
    page.screenshot(path=folder / f"{name}-full.png")
    page.set_viewport_size(size)


@pytest.fixture(params=list(VIEWS))
def view(request, browser):
    context = browser.new_context(**VIEWS[request.param])
    page = context.new_page()
    page.set_default_timeout(90_000)
    yield request.param, page
    context.close()


def test_every_page_reads_on_a_projector_and_a_phone(view, app_url, screenshots):
    name, page = view
    for page_name, (path, expected_text) in PAGES.items():
        page.goto(f"{app_url}/{path}", wait_until="domcontentloaded")
        page.get_by_text(expected_text).first.wait_for()
        wait_until_idle(page, 120_000)
        expect(page.locator(NOTE).first, f"{page_name} has no teacher's note").to_be_visible()
        assert page.locator("[data-testid=stException]").count() == 0, page_name
        assert page.evaluate(OVERFLOW_JS) <= 1, f"{page_name} is wider than the {name}'s screen"
        assert page.evaluate(VISIBLE_MODEBARS_JS) == 0, f"a chart's toolbar covers {page_name}'s titles"
        if name == "projector":
            sizes = page.evaluate(DIAGRAM_TEXT_PX_JS)
            assert all(size >= MIN_DIAGRAM_TEXT_PX for size in sizes), (page_name, min(sizes))
            cells = page.evaluate(TABLE_TEXT_PX_JS)
            assert all(size >= MIN_TABLE_TEXT_PX for size in cells), (page_name, min(cells))
            ticks = page.evaluate(CHART_TICKS_JS)
            assert all(size >= MIN_CHART_TEXT_PX and light <= DARKEST_TEXT for size, light in ticks), (page_name, ticks)
            notes = page.evaluate(NOTE_TEXT_PX_JS)  # the teacher's sentences, large
            assert all(size >= MIN_NOTE_TEXT_PX for size in notes), (page_name, notes)
            if page_name == "overview":
                assert len(cells) >= 2 * 8  # both tables of networks, header and rows
        photograph(page, screenshots, f"{name}-{page_name}")


def test_the_draw_page_on_a_phone_answers_right_under_the_canvas_with_undo_on_screen(browser, app_url, screenshots):
    context = browser.new_context(**VIEWS["phone"])
    page = context.new_page()
    try:
        page.goto(f"{app_url}/draw", wait_until="domcontentloaded", timeout=90_000)
        page.locator(CANVAS).wait_for(timeout=90_000)
        page.get_by_text("Draw a digit on the black canvas.").wait_for()
        wait_until_idle(page)
        # Not from the top 30 px at the right: the canvas's hidden toolbar lies there and takes the touch.
        draw(page, [[(140, 40), (140, 250)]])  # a 1, down the middle
        prediction = page.locator("[data-testid=stMetric]", has_text="Prediction").get_by_test_id("stMetricValue")
        expect(prediction).to_have_text("1", timeout=90_000)
        canvas_box = page.locator(f"{CANVAS} >> visible=true").bounding_box()
        undo = page.get_by_role("button", name="Undo stroke")
        assert undo.is_visible() and undo.is_enabled()  # no hover needed, as on a touch screen
        # The answer comes right after the canvas and its two buttons, not a screen further down.
        assert prediction.bounding_box()["y"] - (canvas_box["y"] + canvas_box["height"]) < 250
        steps = page.get_by_test_id("stImage").locator("img")
        steps.nth(4).wait_for()
        heights = {round(box["height"]) for box in (img.bounding_box() for img in steps.all()[:5])}
        assert len(heights) == 1  # the "what the model sees" strip: equal thumbnails, a tall 1 included
        undo.click()  # back to the empty canvas
        page.get_by_text("Draw a digit on the black canvas.").wait_for()
        draw(page, [[(20, 45), (60, 45), (20, 95), (60, 95)]])  # a small Z in the corner
        page.get_by_text("Draw it larger.").wait_for(timeout=90_000)
        wait_until_idle(page)
        photograph(page, screenshots, "phone-draw-small-digit")
        page.get_by_role("button", name="Clear").click()
        page.get_by_text("Draw a digit on the black canvas.").wait_for()
    finally:
        context.close()
