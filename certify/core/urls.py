"""Absolute addresses for e-mails and PDFs."""

from flask import current_app, url_for


def absolute_url(endpoint: str, **values) -> str:
    """``endpoint``'s address with scheme and host: ``CERTIFY_BASE_URL`` when configured (the
    public address behind a proxy, and the only one known outside a request), else the request's."""
    base = current_app.config.get("CERTIFY_BASE_URL")
    if base:
        return base.rstrip("/") + url_for(endpoint, **values)
    return url_for(endpoint, _external=True, **values)
