"""Small helpers the assessment's use cases share: local dates, the administrators' check and
the trimming of typed text."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import lazy_gettext as _l

from certify.assessment.permissions import can_manage_assessment
from certify.exceptions import PermissionDenied
from certify.timeutil import as_utc, utcnow

MAX_TEXT = 4000


def local_date(moment: datetime) -> date:
    """The day ``moment`` falls on in the deployment's time zone (China Standard Time)."""
    return as_utc(moment).astimezone(ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])).date()


def local_today() -> date:
    """Today, locally: due dates and the cap's calendar year are local dates."""
    return local_date(utcnow())


def require_admin(user) -> None:
    if not can_manage_assessment(user):
        raise PermissionDenied(_l("Only administrators can do this."))


def clean(text: str | None, limit: int = MAX_TEXT) -> str:
    return (text or "").strip()[:limit]
