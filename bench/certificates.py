"""Certificate rendering, in one process: the warm time of one certificate PDF (the real template,
QR code and prepared Chinese font, signed when a key is configured) against the warm time of a
one-line page through the same renderer (same stylesheet and font), median of repeated runs.

Times are the process's CPU time (``time.process_time``): rendering is single-threaded, so on
an idle machine it equals the wall time, and it does not count the time other processes on the
same two cores take away (wall-clock figures are reported beside it).

The one-line page is one bilingual line, ``四川省绿色制造 Sichuan green manufacturing``, so both
documents embed a subset of the same face; the Latin-only ``Hello`` page is reported beside it,
and so is ``Hello`` through WeasyPrint alone with its default (Latin) fonts: the floor of any PDF,
before a Chinese font is subset and embedded.
"""

from __future__ import annotations

import statistics
import time
from datetime import date

TARGETS = {"certificate_render_ratio": ("<=", 2.0)}
ONE_LINE = "<p>四川省绿色制造 Sichuan green manufacturing</p>"
LATIN_LINE = "<p>Hello</p>"


def sample_certificate():
    """An unsaved certificate with realistic fields (rendering reads nothing else)."""
    from certify.certificates.models import Certificate

    return Certificate(
        id=1, number="SC-GF-2026-0001", kind="factory", year=2026, sequence=1,
        organisation_name="攀枝花钒钛绿色钢铁集团有限公司", credit_code="91510400MA6255XQ0K",
        subject="攀枝花钒钛绿色钢铁集团有限公司钒钛钢铁生产基地", rule_set_id="factory-gbt-36132-2018",
        rule_set_version="1.0", standard_code="GB/T 36132-2018", standard_title_zh="绿色工厂评价通则",
        standard_title_en="General principle for assessment of green factory",
        valid_from=date(2026, 1, 15), valid_until=date(2029, 1, 14))


def median_ms(function, repeats: int, clock=time.process_time, warm_up: int = 3) -> float:
    """The median time of ``repeats`` calls of ``function`` by ``clock``, in ms, after ``warm_up``."""
    for _ in range(warm_up):
        function()
    times = []
    for _ in range(repeats):
        started = clock()
        function()
        times.append(clock() - started)
    return statistics.median(times) * 1000


def run(repeats: int = 30) -> dict:
    from weasyprint import HTML
    from weasyprint.text.fonts import FontConfiguration

    from certify import create_app
    from certify.certificates.rendering import certificate_pdf
    from certify.pdf import html_to_pdf

    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "bench-secret-key-long-enough",
                      "CERTIFY_BASE_URL": "https://lvse.jxt.sc.gov.cn"})
    certificate = sample_certificate()
    with app.app_context():
        certificate_ms = median_ms(lambda: certificate_pdf(certificate), repeats)
        one_line_ms = median_ms(lambda: html_to_pdf(ONE_LINE), repeats)
        latin_ms = median_ms(lambda: html_to_pdf(LATIN_LINE), repeats)
        fonts = FontConfiguration()
        default_fonts_ms = median_ms(lambda: HTML(string=LATIN_LINE).write_pdf(font_config=fonts), repeats)
        wall_ratio = (median_ms(lambda: certificate_pdf(certificate), repeats, time.perf_counter)
                      / median_ms(lambda: html_to_pdf(ONE_LINE), repeats, time.perf_counter))
        size = len(certificate_pdf(certificate)[0])
    return {
        "certificate_render_ratio": round(certificate_ms / one_line_ms, 2),
        "certificate_render_ratio_wall": round(wall_ratio, 2),
        "certificate_ms": round(certificate_ms, 1),
        "certificate_one_line_ms": round(one_line_ms, 1),
        "certificate_latin_line_ms": round(latin_ms, 1),
        "certificate_default_fonts_line_ms": round(default_fonts_ms, 1),
        "certificate_pdf_kb": round(size / 1024, 1),
    }
