"""Absolute addresses for e-mails and PDFs, and addresses for every row of a list."""

from collections.abc import Callable
from urllib.parse import urlsplit

from flask import current_app, has_request_context, url_for
from flask_babel import lazy_gettext as _l

from certify.exceptions import ServiceError


class AddressUnknown(ServiceError):
    """No address may be built for a link sent out: ``CERTIFY_BASE_URL`` is not set, and the
    request's host is not one of the allowed hosts."""


def absolute_url(endpoint: str, **values) -> str:
    """``endpoint``'s address with scheme and host: under ``CERTIFY_BASE_URL`` when configured
    (the public address behind a proxy, and the only one known outside a request, e.g. in a
    job), else the current request's — but only when its host is one of the allowed hosts
    (``CERTIFY_ALLOWED_HOSTS``, enforced by Flask as ``TRUSTED_HOSTS``): a link built from a Host
    header anyone can send would mail a password link pointing at their site."""
    base = current_app.config.get("CERTIFY_BASE_URL")
    if not base:
        if not has_request_context():
            raise RuntimeError("CERTIFY_BASE_URL must be set to build addresses outside a request "
                               "(e-mails and PDFs made by jobs), e.g. https://certify.example.gov.cn")
        if not current_app.config.get("TRUSTED_HOSTS"):
            current_app.logger.error("No link sent: set CERTIFY_BASE_URL (or CERTIFY_ALLOWED_HOSTS)")
            raise AddressUnknown(_l("The site's address is not configured, so no message with a link can "
                                    "be sent. Please tell the department."))
        return url_for(endpoint, _external=True, **values)
    parts = urlsplit(base)
    adapter = current_app.url_map.bind(parts.netloc, script_name=parts.path or "/",
                                       url_scheme=parts.scheme or "https")
    return adapter.build(endpoint, values, force_external=True)


_MARKER = 987654321


def url_builder(endpoint: str, key: str) -> Callable[[int], str]:
    """``url_for(endpoint, <key>=value)`` for many integer values at the cost of one: the
    address is built once with a marker in place of the value, which each call fills in (a list
    page links every row, and building each address anew was a fifth of drawing the row)."""
    before, _, after = url_for(endpoint, **{key: _MARKER}).partition(str(_MARKER))
    return lambda value: f"{before}{int(value)}{after}"
