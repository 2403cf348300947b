"""A lesson led from the projector: a phone that joins lands where the teacher is and follows each move,
the teacher's drawing included, until its student switches following off, and returns when it is back on. A server of its own: a lead is the whole server's."""

import re
import time

from playwright.sync_api import expect

from tests.e2e.harness import CANVAS, TEACHER_CODE, draw, wait_until_idle
from ui.follow import LOOK_EVERY

DEPTH = "[data-testid=stSelectbox]:has-text('Depth')"
MAIN_SCROLL_JS = "() => document.querySelector('[data-testid=stMain]').scrollTop"


def test_a_phone_that_joins_lands_on_the_teachers_page_and_follows_until_it_stops_following(browser, fresh_app_url):
    desk = browser.new_context(viewport={"width": 1400, "height": 1000})
    pocket = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    try:
        teacher = desk.new_page()
        teacher.set_default_timeout(90_000)
        teacher.goto(fresh_app_url, wait_until="domcontentloaded")
        teacher.locator("[data-testid=stSidebar] summary").filter(has_text="Teacher").click()
        teacher.get_by_label("Teacher code", exact=True).fill(TEACHER_CODE)
        teacher.get_by_role("button", name="Sign in").click()
        teacher.get_by_text("Lead the class").click()
        teacher.locator("[data-testid=stSidebarNav]").get_by_role("link", name="Residual Lab").click()
        teacher.locator(DEPTH).click()
        teacher.get_by_role("option", name="20 layers (resnet20)").click()
        wait_until_idle(teacher)

        phone = pocket.new_page()
        phone.set_default_timeout(90_000)
        phone.goto(fresh_app_url, wait_until="domcontentloaded")  # the first page, as a student types the address
        expect(phone).to_have_url(re.compile(r"/residual_lab"), timeout=60_000)
        depth = phone.get_by_role("combobox", name="Depth", exact=True)
        expect(depth).to_have_value("20 layers (resnet20)", timeout=60_000)  # the teacher's run's settings
        expect(phone.get_by_text("Measured in advance (resnet20")).to_be_visible(timeout=60_000)  # and its result

        teacher.locator(DEPTH).click()
        teacher.get_by_role("option", name="8 layers (resnet8)").click()
        expect(depth).to_have_value("8 layers (resnet8)", timeout=60_000)
        # The teacher draws a 1; the phone, on Convolution, looks at the teacher's drawing, not a test digit.
        teacher.locator("[data-testid=stSidebarNav]").get_by_role("link", name="Draw & Predict").click()
        teacher.locator(CANVAS).wait_for()
        draw(teacher, [[(140, 40), (140, 240)]])
        expect(teacher.get_by_text("Prediction")).to_be_visible()
        teacher.locator("[data-testid=stSidebarNav]").get_by_role("link", name="Convolution").click()
        expect(phone).to_have_url(re.compile(r"/convolution"), timeout=60_000)
        expect(phone.get_by_role("radio", name="Teacher's drawing")).to_be_checked(timeout=60_000)
        expect(phone.get_by_text(re.compile("test image #"))).to_have_count(0)

        # A page that ends early (Train before a run starts) leads the class too.
        teacher.locator("[data-testid=stSidebarNav]").get_by_role("link", name="Train").click()
        expect(phone).to_have_url(re.compile(r"/train"), timeout=60_000)
        teacher.locator("[data-testid=stSidebarNav]").get_by_role("link", name="Convolution").click()
        expect(phone).to_have_url(re.compile(r"/convolution"), timeout=60_000)

        phone.get_by_test_id("stExpandSidebarButton").click()  # a phone's sidebar starts folded away
        phone.locator("[data-testid=stSidebar]").get_by_text("Follow the teacher").click()  # off: explore alone
        wait_until_idle(phone)
        teacher.locator("[data-testid=stSidebarNav]").get_by_role("link", name="Architecture").click()
        wait_until_idle(teacher)
        time.sleep(2 * LOOK_EVERY + 1)  # two looks: a follower would have moved by now
        expect(phone).to_have_url(re.compile(r"/convolution"))
        # Back on: the phone returns to the teacher's page at its next look, without waiting for a new move,
        # and shows it from the top, though its student had scrolled down Convolution.
        phone.evaluate("() => document.querySelector('[data-testid=stMain]').scrollTo(0, 3000)")
        assert phone.evaluate(MAIN_SCROLL_JS) > 0
        phone.locator("[data-testid=stSidebar]").get_by_text("Follow the teacher").click()
        expect(phone).to_have_url(re.compile(r"/architecture"), timeout=60_000)
        phone.wait_for_function(f"({MAIN_SCROLL_JS})() === 0")
        assert teacher.locator("[data-testid=stException]").count() == 0
        assert phone.locator("[data-testid=stException]").count() == 0
    finally:
        desk.close()
        pocket.close()
