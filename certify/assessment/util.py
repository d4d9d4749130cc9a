"""Small helpers the assessment's use cases share: the administrators' check and the trimming of
typed text. Local dates come from ``certify.timeutil``."""

from flask_babel import lazy_gettext as _l

from certify.assessment.permissions import can_manage_assessment
from certify.exceptions import PermissionDenied

MAX_TEXT = 4000


def require_admin(user) -> None:
    if not can_manage_assessment(user):
        raise PermissionDenied(_l("Only administrators can do this."))


def clean(text: str | None, limit: int = MAX_TEXT) -> str:
    return (text or "").strip()[:limit]
