"""Helpers shared by every area's forms and views."""

from urllib.parse import urlsplit

from flask import flash

from certify.exceptions import ServiceError


def show_service_error(form, error: ServiceError) -> None:
    """Attach a refused request's message to the field it concerns, or flash it."""
    field = form._fields.get(error.field) if error.field else None
    if field is not None:
        field.errors = list(field.errors) + [error.message]
    else:
        flash(error.message, "error")


def safe_next_url(target: str | None) -> str | None:
    """``target`` if it is a path on this site, else ``None`` (no open redirects)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target
