"""The Residual Lab in a real browser: results measured in advance at once; then train the twins, watch both
curves grow, and take blocks out."""

from tests.e2e.harness import choose, wait_until_idle

# Points drawn so far in the twins' training-loss chart (the page's first): [residual, plain].
TWIN_POINTS_JS = (
    "(() => { const plot = document.querySelector('.js-plotly-plot');"
    " if (!plot || !plot.data || plot.data.length < 2) return [0, 0];"
    " return [plot.data[0].x.length, plot.data[1].x.length]; })()"
)


def twin_points(page) -> list[int]:
    return page.evaluate(f"() => {TWIN_POINTS_JS}")


def test_the_lab_opens_on_results_measured_in_advance(page, app_url, screenshots):
    page.goto(f"{app_url}/residual_lab", wait_until="domcontentloaded", timeout=90_000)
    page.get_by_text("Measured in advance (resnet56").wait_for(timeout=60_000)
    page.get_by_text("Measured in this sweep:").wait_for()
    page.get_by_text("with nothing removed the residual net scores").wait_for()
    wait_until_idle(page)
    assert page.get_by_role("button", name="Run it live").count() == 2
    assert (
        page.locator(".js-plotly-plot").count() >= 7
    )  # twins and sweep (two each), gradients, block parts, ratios, lesions
    assert page.locator("[data-testid=stException]").count() == 0
    page.screenshot(path=screenshots / "residual_lab_in_advance.png", full_page=True)


def test_train_the_twins_see_both_curves_grow_then_run_a_lesion(page, fresh_app_url, screenshots):
    page.goto(f"{fresh_app_url}/residual_lab", wait_until="domcontentloaded", timeout=90_000)
    page.get_by_role("button", name="Run it live").first.wait_for(timeout=60_000)
    choose(page, "Training digits", "10,000 digits")  # 157 steps: the curves still grow between two looks
    choose(page, "Depth", "20 layers (resnet20)")
    page.get_by_role("button", name="Train the twins").click()
    page.wait_for_function(f"(() => {{ const p = {TWIN_POINTS_JS}; return p[0] > 0 && p[1] > 0; }})()", timeout=60_000)
    first = twin_points(page)
    page.wait_for_function(
        f"(() => {{ const p = {TWIN_POINTS_JS}; return p[0] > {first[0]} && p[1] > {first[1]}; }})()", timeout=60_000
    )
    grown = twin_points(page)
    assert grown[0] > first[0] and grown[1] > first[1]  # both twins' curves update while they train
    page.screenshot(path=screenshots / "residual_lab_running.png")
    page.get_by_text("Measured in this run").wait_for(timeout=180_000)
    wait_until_idle(page)
    page.get_by_role("button", name="Remove each block in turn").click()
    page.get_by_text("with nothing removed the residual net scores").wait_for(timeout=180_000)
    wait_until_idle(page)
    assert page.locator("[data-testid=stException]").count() == 0
    page.screenshot(path=screenshots / "residual_lab_results.png", full_page=True)
