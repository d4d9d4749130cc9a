"""The statistics charts as an administrator reads them: counts step by whole numbers, and the
score bands run from red (low) to green (high)."""

from certify.demo import DEMO_PASSWORD
from certify.extensions import db as _db
from certify.workflow import Status
from tests.e2e.conftest import Journey
from tests.e2e.test_journey import log_in_with_the_keyboard

TICKS = "key => window.Chart.getChart(document.getElementById('chart-' + key)).scales.y.ticks.map(t => t.value)"
COLOURS = "key => window.Chart.getChart(document.getElementById('chart-' + key)).data.datasets.map(d => d.backgroundColor)"


def test_counts_step_by_whole_numbers_and_bands_read_red_to_green(browser, live_app, demo_world):
    from certify.demo.scale import load_scale

    with live_app.app_context():
        load_scale(3, shares={Status.ASSESSED: 1.0}, echo=lambda *_: None)
        _db.session.commit()
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    try:
        journey = Journey(context.new_page(), live_app.config["CERTIFY_BASE_URL"], "statistics")
        log_in_with_the_keyboard(journey, "admin@example.com", DEMO_PASSWORD)
        journey.goto("/admin/statistics")
        journey.page.wait_for_function("() => window.Chart && window.Chart.getChart(document.getElementById('chart-sections'))")
        for key in ("status", "city", "sections"):
            ticks = journey.page.evaluate(TICKS, key)
            assert ticks and all(float(t).is_integer() for t in ticks), (key, ticks)
        colours = journey.page.evaluate(COLOURS, "sections")
        assert colours[0] == "#c0392b" and colours[-1] == "#1f6f43"  # 0–20 % red, 80–100 % green
        journey.shot("statistics")
        assert journey.problems == []
    finally:
        context.close()
