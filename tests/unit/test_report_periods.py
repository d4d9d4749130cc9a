"""Reporting periods from the due dates alone: the same functions serve the self-declarations
(half-yearly by default) and the pilots' progress reports (yearly)."""

from datetime import date

from certify.management.periods import closed_periods, current_period, last_closed_period, parse_due_dates

HALF_YEARLY = parse_due_dates("01-15,07-15")
YEARLY = parse_due_dates("12-31")


def test_the_due_date_itself_still_belongs_to_the_period_it_closes():
    assert current_period(HALF_YEARLY, date(2026, 7, 15)) == date(2026, 7, 15)
    assert last_closed_period(HALF_YEARLY, date(2026, 7, 15)) == date(2026, 1, 15)


def test_the_day_after_the_due_date_the_period_is_closed():
    assert current_period(HALF_YEARLY, date(2026, 7, 16)) == date(2027, 1, 15)
    assert last_closed_period(HALF_YEARLY, date(2026, 7, 16)) == date(2026, 7, 15)


def test_a_yearly_report_due_at_the_end_of_december():
    assert current_period(YEARLY, date(2026, 12, 7)) == date(2026, 12, 31)
    assert last_closed_period(YEARLY, date(2027, 1, 1)) == date(2026, 12, 31)


def test_closed_periods_go_back_newest_first():
    assert closed_periods(HALF_YEARLY, date(2026, 12, 7), 3) == [
        date(2026, 7, 15), date(2026, 1, 15), date(2025, 7, 15)]
    assert closed_periods(YEARLY, date(2026, 12, 7), 2) == [date(2025, 12, 31), date(2024, 12, 31)]
