"""Every public page and the applicant's pages at phone width (375 px) and on a desktop (1,280 px):
no horizontal scrolling at 375 px (a wide table scrolls inside its own box), the menu folded away
behind one button, and a screenshot of each kept under test-output/e2e/."""

import re

import pytest

from certify.demo import DEMO_PASSWORD
from tests.e2e.conftest import Journey
from tests.e2e.test_journey import log_in_with_the_keyboard

# What overflows the page's width, if anything: the widest element that is not inside a box that
# scrolls on its own.
OVERFLOW = """() => {
  const width = document.documentElement.clientWidth;
  if (document.documentElement.scrollWidth <= width) return null;
  const culprits = [];
  for (const el of document.querySelectorAll('body *')) {
    const box = el.getBoundingClientRect();
    if (box.right > width + 1 && !el.closest('.table-scroll')) culprits.push(el.tagName + '.' + el.className + ' ' + Math.round(box.right));
  }
  return {scrollWidth: document.documentElement.scrollWidth, culprits: culprits.slice(0, 5)};
}"""

PUBLIC = ["/", "/notices", "/lists", "/verify", "/verify/revoked", "/login", "/register", "/password/forgot"]


def pages_to_check(demo) -> list[str]:
    return PUBLIC + [f"/verify?number={demo['number']}", f"/notices/{demo['notice']}", f"/lists/{demo['announced']}"]


def visit_all(journey, paths: list[str], width: int) -> list[str]:
    problems = []
    for path in paths:
        journey.goto(path)
        overflow = journey.page.evaluate(OVERFLOW)
        if width <= 400 and overflow:
            problems.append(f"{path}: {overflow}")
        journey.shot(f"{width} {path}")
    return problems


@pytest.mark.parametrize("width", [375, 1280])
def test_public_and_applicant_pages_fit_the_screen(browser, live_app, demo_world, width):
    context = browser.new_context(locale="zh-CN", viewport={"width": width, "height": 800},
                                  extra_http_headers={"Accept-Language": "zh-CN"})
    try:
        journey = Journey(context.new_page(), live_app.config["CERTIFY_BASE_URL"], f"{width}px")
        problems = visit_all(journey, pages_to_check(demo_world), width)
        if width <= 400:  # the menu is folded behind one button, which opens it
            journey.goto("/")
            assert not journey.page.locator(".main-nav ul").is_visible()
            journey.page.locator(".menu-button").click()
            assert journey.page.locator(".main-nav ul").is_visible()
            journey.shot("menu open")
        log_in_with_the_keyboard(journey, "applicant1@example.com", DEMO_PASSWORD)
        journey.goto("/applications")
        application = re.search(r'href="(/applications/\d+)"', journey.page.content()).group(1)
        journey.goto(application)
        section = re.search(r'href="(/applications/\d+/sections/[\w-]+)"', journey.page.content()).group(1)
        journey.goto("/declarations")
        # The listed factory's declaration: the figures of each computed metric, one field each.
        declare = re.search(r'href="(/declarations/applications/\d+)"', journey.page.content()).group(1)
        problems += visit_all(journey, ["/workbench", "/applications", application, section, "/declarations",
                                        declare, "/applications/new"], width)
        assert problems == [], "\n".join(problems)
        assert journey.problems == []
    finally:
        context.close()


def test_the_administrators_pages_fit_a_1280_window(browser, live_app, demo_world):
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 800},
                                  extra_http_headers={"Accept-Language": "zh-CN"})
    try:
        journey = Journey(context.new_page(), live_app.config["CERTIFY_BASE_URL"], "admin-1280px")
        log_in_with_the_keyboard(journey, "admin@example.com", DEMO_PASSWORD)
        problems = []
        for path in ("/workbench", "/admin/audit", "/admin/decisions", "/admin/batches", "/admin/certificates"):
            journey.goto(path)
            width = journey.page.evaluate("document.documentElement.scrollWidth")
            if width > 1280:
                problems.append(f"{path}: {width} px wide")
            journey.shot(path)
        assert problems == [], "\n".join(problems)
    finally:
        context.close()
