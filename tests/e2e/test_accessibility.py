"""Accessibility to GB/T 37668-2019 (close to WCAG 2.1 AA): axe-core, run in the browser on the
public pages, the applicant's and the administrators' pages, in Chinese, at 1,280 and 375 px. No
violation of serious or critical impact may remain; each one found is listed with its elements."""

import pytest
from axe_playwright_python.sync_playwright import Axe

from certify.demo import DEMO_PASSWORD
from tests.e2e.conftest import Journey
from tests.e2e.test_journey import log_in_with_the_keyboard

BLOCKING = {"serious", "critical"}
AXE = Axe()


@pytest.fixture(scope="module")
def demo_paths(demo_world):
    number, notice, announced = demo_world["number"], demo_world["notice"], demo_world["announced"]
    return {
        None: ["/", "/notices", f"/notices/{notice}", "/lists", f"/lists/{announced}", "/verify",
               f"/verify?number={number}", "/verify/revoked", "/login", "/register", "/password/forgot"],
        "applicant1@example.com": ["/workbench", "/applications", "/applications/1", "/applications/1/sections/veto",
                                   "/declarations", "/applications/new"],
        "admin@example.com": ["/workbench", "/admin/decisions", "/admin/batches", "/admin/audit", "/admin/statistics"],
    }


def violations(page) -> list[str]:
    found = []
    for violation in AXE.run(page).response["violations"]:
        if violation["impact"] in BLOCKING:
            targets = ", ".join(" ".join(node["target"]) for node in violation["nodes"][:3])
            found.append(f"{violation['id']} ({violation['impact']}): {violation['help']} — {targets}")
    return found


@pytest.mark.parametrize("width", [1280, 375])
def test_no_serious_accessibility_violation(browser, live_app, demo_paths, width):
    checked, problems = 0, []
    for login, paths in demo_paths.items():
        context = browser.new_context(locale="zh-CN", viewport={"width": width, "height": 900},
                                      extra_http_headers={"Accept-Language": "zh-CN"})
        try:
            journey = Journey(context.new_page(), live_app.config["CERTIFY_BASE_URL"], f"a11y-{width}")
            if login:
                log_in_with_the_keyboard(journey, login, DEMO_PASSWORD)
            for path in paths:
                journey.goto(path)
                checked += 1
                problems += [f"{path}: {problem}" for problem in violations(journey.page)]
        finally:
            context.close()
    assert checked >= 15
    assert problems == [], "\n".join(problems)
