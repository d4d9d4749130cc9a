"""Reporting periods: each period is named by its due date (a China Standard Time date) and
runs from the day after the previous due date. Pure Python: every function takes the due dates
and, where it matters, the day.

The due dates are month-day pairs such as ``"01-15,07-15"`` (half-yearly) or ``"12-31"``
(yearly): the self-declarations' from ``CERTIFY_DECLARATION_DUE_DATES``, the pilots' progress
reports' from ``CERTIFY_PILOT_REPORT_DUE_DATES``.
"""

from datetime import date, timedelta


def parse_due_dates(text: str) -> tuple[tuple[int, int], ...]:
    """``"01-15,07-15"`` -> ``((1, 15), (7, 15))``; ``ValueError`` on anything else."""
    pairs = []
    for part in (text or "").split(","):
        part = part.strip()
        if not part:
            continue
        month, _, day = part.partition("-")
        pair = (int(month), int(day))
        date(2001, *pair)  # refuses 02-30 and 13-01 (and 02-29, which most years lack)
        pairs.append(pair)
    if not pairs:
        raise ValueError("no due date")
    return tuple(sorted(set(pairs)))


def _due_dates_around(year: int, due_dates) -> list[date]:
    return [date(y, month, day) for y in (year - 1, year, year + 1) for month, day in due_dates]


def period_for(day: date, due_dates) -> date:
    """The period ``day`` falls in: the first due date on or after ``day``."""
    return min(d for d in _due_dates_around(day.year, due_dates) if d >= day)


def period_start(period: date, due_dates) -> date:
    """The first day of ``period``: the day after the previous due date."""
    return max(d for d in _due_dates_around(period.year, due_dates) if d < period) + timedelta(days=1)


def previous_period(period: date, due_dates) -> date:
    """The period before ``period``: the one named by the previous due date."""
    return period_start(period, due_dates) - timedelta(days=1)


def current_period(due_dates, today: date) -> date:
    """The period being reported on ``today``: the first due date on or after it."""
    return period_for(today, due_dates)


def last_closed_period(due_dates, today: date) -> date:
    """The most recent period whose due date is before ``today``."""
    return previous_period(current_period(due_dates, today), due_dates)


def closed_periods(due_dates, today: date, count: int) -> list[date]:
    """The ``count`` most recent closed periods on ``today``, newest first."""
    periods = [last_closed_period(due_dates, today)]
    while len(periods) < count:
        periods.append(previous_period(periods[-1], due_dates))
    return periods
