"""Dates and times on pages read as Babel writes them, in the user's language and time zone."""

from datetime import datetime, timedelta, timezone

import flask_babel
import pytest

from certify.i18n import compact_datetime, format_datetime

MOMENTS = [datetime(2026, 1, 1, 0, 0), datetime(2026, 11, 29, 15, 59, 7, 120000),  # naive: UTC
           datetime(2026, 6, 30, 23, 30, tzinfo=timezone.utc), datetime(2027, 2, 28, 9, 5, tzinfo=timezone(timedelta(hours=-5)))]


@pytest.mark.parametrize("language", ["zh", "en"])
@pytest.mark.parametrize("name", ["short", "medium", "long", "full", "yyyy-MM-dd HH:mm"])
def test_the_datetime_filter_writes_what_babel_writes(app, language, name):
    with app.test_request_context(headers={"Accept-Language": language}):
        for moment in MOMENTS:
            assert format_datetime(moment, name) == flask_babel.format_datetime(moment, name)
        assert app.jinja_env.filters["datetimeformat"] is format_datetime
        assert format_datetime(None) == ""


def test_a_time_is_shown_in_china_standard_time(app):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert format_datetime(datetime(2026, 11, 29, 16, 30), "yyyy-MM-dd HH:mm") == "2026-11-30 00:30"


def test_long_tables_show_times_compactly_in_china_standard_time(app):
    with app.test_request_context(headers={"Accept-Language": "zh"}):
        assert compact_datetime(datetime(2026, 11, 29, 16, 30)) == "2026-11-30 00:30"
        assert compact_datetime(datetime(2026, 11, 29, 16, 30, tzinfo=timezone(timedelta(hours=8)))) == "2026-11-29 16:30"
        assert compact_datetime(None) == ""
