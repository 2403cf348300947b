"""What a class does in a real browser: a run trained and watched, the teacher stopping the next in line,
results, a checkpoint to download and a reload; a saved checkpoint loaded and digits drawn; a setting kept
while its student is on another page."""

import re

import pytest
from playwright.sync_api import expect

from resnet_core.files.checkpoints import load_checkpoint, save_checkpoint
from tests.e2e.harness import (
    CANVAS,
    TEACHER_CODE,
    draw,
    model_in_use,
    open_another_mistake,
    stop_button,
    wait_until_idle,
)
from ui.follow import LOOK_EVERY

CHART_POINTS_JS = (
    "(() => { const plot = document.querySelector('.js-plotly-plot');"
    " return plot && plot.data && plot.data.length ? plot.data[0].x.length : 0; })()"
)


# st.image pictures the browser has decoded and laid out (empty ones still loading have no height).
LOADED_IMAGES_JS = (
    "[...document.querySelectorAll('[data-testid=stImage] img')]"
    ".filter(img => img.complete && img.naturalWidth > 0 && img.getBoundingClientRect().height > 0).length"
)


# Points of the training chart's validation accuracy line, as drawn in the browser.
VALIDATION_POINTS_JS = (
    "(() => { const v = document.querySelector('.js-plotly-plot').data.filter(t => t.name === 'validation');"
    " return v.length ? v[v.length - 1].x.length : 0; })()"
)


def chart_points(page) -> int:
    """Points of the first training curve as drawn in the browser."""
    return page.evaluate(f"() => {CHART_POINTS_JS}")


def test_a_class_run_is_watched_finishes_with_results_and_the_teacher_stops_the_next_in_line(
    page, browser, app_url, tmp_path, screenshots
):
    """The classroom defaults (the sprint: ResNet-8, Quick: all digits, 1 pass) trained from the page: the chart
    moves, a classmate watches through the link, the teacher stops the run waiting behind it, and the
    run ends with results, a checkpoint to download and a reload that finds it again."""
    page.goto(f"{app_url}/train", wait_until="domcontentloaded", timeout=90_000)
    page.get_by_role("button", name="Start training").click()
    stop_button(page).wait_for(timeout=60_000)
    assert "run=" in page.url

    # A second student (on a phone) starts a longer run: one device, so it waits in line.
    phone = browser.new_context(viewport={"width": 390, "height": 844})
    second = phone.new_page()
    second.goto(f"{app_url}/train", wait_until="domcontentloaded", timeout=90_000)
    second.get_by_text("Medium: all 55,000 digits × 3 passes").click()
    second.get_by_role("button", name="Start training").click()
    second.get_by_text("Waiting for the device: 1 run is ahead of yours").wait_for(timeout=60_000)

    # A classmate opens the first run's link (shown on the projector): they watch it, and cannot stop it.
    classmate = browser.new_context(viewport={"width": 390, "height": 844})
    watcher = classmate.new_page()
    watcher.goto(page.url, wait_until="domcontentloaded", timeout=90_000)
    watcher.get_by_text("only they can stop it").wait_for(timeout=60_000)
    assert stop_button(watcher).count() == 0
    watcher.screenshot(path=screenshots / "train_watched_through_link.png")
    classmate.close()

    page.wait_for_function("() => document.querySelector('.js-plotly-plot')", timeout=60_000)
    # On the projector the curves are on the first screen: the settings folded into one line.
    assert page.locator(".js-plotly-plot").first.bounding_box()["y"] < 1000 - 200
    expect(page.get_by_text("Settings of the run in progress: resnet8, all digits × 1 pass")).to_be_visible()
    first = chart_points(page)
    page.wait_for_function(f"({CHART_POINTS_JS}) > {first}", timeout=60_000)
    assert chart_points(page) > first  # the chart updates while training runs
    page.screenshot(path=screenshots / "train_running.png")

    # The teacher, at another computer, signs in with the code and stops the run waiting in line.
    desk = browser.new_context(viewport={"width": 1400, "height": 1000})
    teacher = desk.new_page()
    teacher.goto(app_url, wait_until="domcontentloaded", timeout=90_000)
    teacher.locator("[data-testid=stSidebar] summary").filter(has_text="Teacher").click()
    teacher.get_by_label("Teacher code", exact=True).fill(TEACHER_CODE)
    teacher.get_by_role("button", name="Sign in").click()
    teacher.get_by_role("link", name="Teacher").click()
    teacher.get_by_text("Training: resnet8, all digits × 3 passes").wait_for(timeout=60_000)
    teacher.screenshot(path=screenshots / "teacher_panel.png")
    waiting_row = teacher.locator("[data-testid=stHorizontalBlock]").filter(has_text="all digits × 3 passes")
    waiting_row.get_by_role("button", name="Stop").click()
    second.get_by_text("The teacher stopped this run").wait_for(timeout=60_000)
    desk.close()
    phone.close()

    page.get_by_text("Training finished.").wait_for(timeout=240_000)
    wait_until_idle(page)
    assert page.locator("[data-testid=stException]").count() == 0
    success = page.locator("[data-testid=stAlertContentSuccess]").inner_text()
    shown_accuracy = re.search(r"Test accuracy ([\d.]+)%, measured once, now, on 10,000 test digits", success).group(1)
    assert float(shown_accuracy) > 97  # the sprint: one pass makes a good model
    # Its validation curve was measured five times within the one pass.
    assert page.evaluate(f"() => {VALIDATION_POINTS_JS}") == 5
    page.get_by_text("Arithmetic: fp32 (auto: bf16 is used on a CUDA GPU only).").wait_for()
    page.get_by_text("Confusion matrix").scroll_into_view_if_needed()
    assert page.locator(".js-plotly-plot").count() == 2  # the training curves and the confusion matrix
    page.wait_for_function(LOADED_IMAGES_JS + " > 0", timeout=30_000)  # the most common mistake's digits
    page.screenshot(path=screenshots / "train_results.png")
    with page.expect_download(timeout=60_000) as download_info:
        page.get_by_role("button", name="Download checkpoint").click()
    downloaded = tmp_path / download_info.value.suggested_filename
    download_info.value.save_as(downloaded)
    assert downloaded.name == "resnet8-medium.pt"
    checkpoint = load_checkpoint(downloaded)
    assert checkpoint.arch == "resnet8" and checkpoint.config.checks_per_epoch == 5
    assert f"{checkpoint.metrics['test_accuracy']:.2f}" == shown_accuracy

    # Click another cell of the confusion matrix that holds mistakes: its digits are shown instead.
    open_another_mistake(page, page.locator(".js-plotly-plot").nth(1))

    page.reload(wait_until="domcontentloaded")  # a new session: the URL leads it back to the run
    page.get_by_text(f"Training finished. Test accuracy {shown_accuracy}%").wait_for(timeout=60_000)
    page.get_by_role("button", name="Use this run's model").click()
    expect(model_in_use(page)).to_have_value(re.compile(rf"^Run .* · {shown_accuracy}%$"), timeout=30_000)


@pytest.fixture(scope="module")
def saved_checkpoint(trained_resnet18, tmp_path_factory):
    """The test session's ResNet-18 (10,000 digits, one epoch) as a file, as `python -m resnet_core train`
    writes one (tests/test_cli.py runs that command end to end)."""
    out = tmp_path_factory.mktemp("saved") / "resnet18-saved.pt"
    metrics = {"test_accuracy": trained_resnet18.test.accuracy}
    return save_checkpoint(out, trained_resnet18.model, trained_resnet18.config, metrics)


def expect_prediction(page, digit: str) -> None:
    """The page settles on `digit`. Each stroke reruns the page, and the run for the last
    stroke can finish after an earlier one looked idle, so the answer is awaited, not read once."""
    metric = page.locator("[data-testid=stMetric]", has_text="Prediction")
    expect(metric.locator("[data-testid=stMetricValue]")).to_have_text(digit, timeout=60_000)


def test_load_a_saved_checkpoint_and_draw_digits(saved_checkpoint, fresh_app_url, page, screenshots):
    app_url = fresh_app_url
    page.goto(f"{app_url}/draw", wait_until="domcontentloaded", timeout=90_000)
    page.get_by_text("Load another model").first.click()
    page.locator("input[type=file]").set_input_files(str(saved_checkpoint))
    page.locator(CANVAS).wait_for(timeout=60_000)
    expect(model_in_use(page)).to_have_value(re.compile(r"^uploaded resnet18-saved.pt"))

    draw(page, [[(140, 40), (140, 240)]])  # a 1
    expect_prediction(page, "1")

    page.get_by_role("button", name="Clear").click()
    page.get_by_text("Draw a digit on the black canvas.").wait_for()
    wait_until_idle(page)
    three = [
        [(90, 60), (130, 40), (180, 50), (190, 90), (170, 125), (130, 140)],
        [(130, 140), (180, 155), (195, 195), (170, 235), (120, 245), (85, 225)],
    ]
    draw(page, three)
    expect_prediction(page, "3")
    wait_until_idle(page)
    assert page.locator("[data-testid=stException]").count() == 0
    # "What the model sees": the five preparation steps, then "Where it looks" once opened: Grad-CAM of
    # the ResNet-18's four stages, saliency and Integrated Gradients; each decoded by the browser.
    page.wait_for_function(LOADED_IMAGES_JS + " === 5", timeout=30_000)
    page.get_by_text("Where it looks").click()
    page.wait_for_function(LOADED_IMAGES_JS + " === 11", timeout=60_000)
    page.screenshot(path=screenshots / "draw_predict.png")

    page.locator("[data-testid=stSidebarNav]").get_by_text("Feature Maps").click()  # same session
    page.get_by_text("Current drawing").wait_for()
    wait_until_idle(page)
    assert page.locator("[data-testid=stException]").count() == 0
    page.screenshot(path=screenshots / "feature_maps_drawing.png")


def test_a_setting_outlasts_a_stay_on_another_page_where_fragments_rerun(app_url, page):
    page.goto(f"{app_url}/convolution", wait_until="domcontentloaded")
    page.get_by_text("whole map").first.wait_for()
    wait_until_idle(page)
    filter_slider = page.locator("[data-testid=stSlider]").filter(has_text="Filter")
    page.get_by_role("slider", name="Filter").focus()
    for _ in range(5):
        page.keyboard.press("ArrowRight")
    expect(filter_slider.locator("[data-testid=stSliderThumbValue]")).to_have_text("5")
    wait_until_idle(page)
    page.locator("[data-testid=stSidebarNav]").get_by_role("link", name="Architecture").click()
    wait_until_idle(page)
    # Two runs of the follow look-out, a fragment every page has: at its end Streamlit dropped kept values.
    page.wait_for_timeout(2 * LOOK_EVERY * 1000 + 1000)
    page.locator("[data-testid=stSidebarNav]").get_by_role("link", name="Convolution").click()
    page.get_by_text("whole map").first.wait_for()
    expect(filter_slider.locator("[data-testid=stSliderThumbValue]")).to_have_text("5")
