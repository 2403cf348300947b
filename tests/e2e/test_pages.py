"""Every page in a real browser: it renders, shows no exception, and is photographed (RESNET_SCREENSHOTS)."""

import pytest

from tests.e2e.harness import wait_until_idle

PAGES = {
    "overview": ("", "ResNet Explorer"),
    "architecture": ("architecture", "Layer table"),
    "train": ("train", "Start training"),
    "draw": ("draw", "Draw & Predict"),
    "feature_maps": ("feature_maps", "Feature Maps"),
    "mistakes": ("mistakes", "Why it fails"),
    "teach": ("teach", "Teach it"),
    "runs": ("runs", "What the accuracy cost"),
    "residual_lab": ("residual_lab", "Residual Lab"),
}


@pytest.mark.parametrize("name", PAGES)
def test_page_renders_without_exception(page, app_url, name, screenshots):
    path, expected_text = PAGES[name]
    page.goto(f"{app_url}/{path}", wait_until="domcontentloaded", timeout=90_000)
    page.get_by_text(expected_text).first.wait_for()
    wait_until_idle(page)
    assert page.locator("[data-testid=stException]").count() == 0
    page.screenshot(path=screenshots / f"{name}.png", full_page=True)
