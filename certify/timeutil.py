"""Time helpers: the system stores UTC and shows China Standard Time."""

from datetime import date, datetime, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(timezone.utc)


def as_utc(moment: datetime) -> datetime:
    """``moment`` as an aware UTC time (SQLite gives back naive values, which are UTC here)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


# Dates people see (notice periods, certificate validity) are China Standard Time dates.
LOCAL_TIMEZONE = ZoneInfo("Asia/Shanghai")


def local_today() -> date:
    """Today's date in China Standard Time."""
    return datetime.now(LOCAL_TIMEZONE).date()


def local_date(moment: datetime) -> date:
    """The China Standard Time date of ``moment``."""
    return as_utc(moment).astimezone(LOCAL_TIMEZONE).date()


@lru_cache(maxsize=4096)
def local_year(moment: datetime) -> int:
    """The China Standard Time year of ``moment``; kept, as the public list asks it of every
    announced batch's time on every request."""
    return local_date(moment).year


def local_isoformat(moment: datetime) -> str:
    """``moment`` in ISO 8601 with China Standard Time's offset (``2026-12-06T09:24:00+08:00``),
    for files other systems read."""
    return as_utc(moment).astimezone(LOCAL_TIMEZONE).isoformat()
