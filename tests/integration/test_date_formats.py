"""One style for dates and times on every page and in every mail: 2026年12月6日 09:24 in Chinese,
6 December 2026, 09:24 in English, in China Standard Time."""

from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from certify.i18n import date_text, datetime_text

CASES = [  # (moment, Chinese, English); a naive moment is UTC
    (datetime(2026, 1, 1, 0, 0), "2026年1月1日 08:00", "1 January 2026, 08:00"),
    (datetime(2026, 11, 29, 16, 30), "2026年11月30日 00:30", "30 November 2026, 00:30"),
    (datetime(2026, 6, 30, 23, 30, tzinfo=timezone.utc), "2026年7月1日 07:30", "1 July 2026, 07:30"),
    (datetime(2027, 2, 28, 9, 5, tzinfo=timezone(timedelta(hours=-5))), "2027年2月28日 22:05", "28 February 2027, 22:05"),
]


@pytest.mark.parametrize("moment, zh, en", CASES)
def test_a_moment_is_written_one_way_in_each_language_in_china_standard_time(app, moment, zh, en):
    for language, expected in (("zh", zh), ("en", en)):
        with app.test_request_context(headers={"Accept-Language": language}):
            assert datetime_text(moment) == expected
            assert app.jinja_env.filters["datetime_text"] is datetime_text


def test_a_day_is_written_one_way_and_a_moment_s_day_is_china_s(app):
    with app.test_request_context(headers={"Accept-Language": "zh"}):
        assert date_text(date(2026, 12, 6)) == "2026年12月6日"
        assert date_text(datetime(2026, 12, 5, 17, 0)) == "2026年12月6日"  # 01:00 in Beijing
        assert date_text(None) == datetime_text(None) == ""
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert date_text(date(2026, 12, 6)) == "6 December 2026"


def test_templates_use_no_other_date_style():
    for path in (Path(__file__).resolve().parents[2] / "templates").rglob("*.*"):
        text = path.read_text(encoding="utf-8")
        assert "datetimeformat" not in text and "|dateformat" not in text and ".isoformat() }}" not in text, path
