"""Errors of the API as ``application/problem+json`` (RFC 9457): ``type``, ``title``,
``status``, ``detail``, and for invalid input the fields at fault (``errors``).

A problem's ``type`` is ``about:blank`` for a plain HTTP error, else the address of its
explanation on the API's documentation page."""

import math
import time

from flask import Response, current_app, json
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException

PROBLEM_MEDIA_TYPE = "application/problem+json"

# The API's own kinds of problem: (status, title, detail), in the caller's language.
KINDS = {
    "invalid-key": (401, _l("Invalid API key"),
                    _l("The API key sent is unknown or was revoked. Send a valid key, or none for the public limits.")),
    "key-required": (401, _l("API key required"), _l("This endpoint needs an API key (Authorization: Bearer …).")),
    "scope-missing": (403, _l("Scope missing"), _l("The API key sent does not allow this endpoint.")),
    "not-found": (404, _l("Not found"), _l("Nothing public has this number or id.")),
    "invalid-cursor": (400, _l("Invalid cursor"),
                       _l("The cursor is not one this API gave out. Start again without it.")),
    "no-credential": (404, _l("No machine-readable certificate"),
                      _l("No signed JSON can be given for this certificate now.")),
    "rate-limited": (429, _l("Too many requests"),
                     _l("The rate limit of this caller is spent. Wait as long as Retry-After says.")),
}

# Titles of plain HTTP errors (the API never sends a page).
STATUS_TITLES = {
    400: _l("Bad request"), 401: _l("Unauthorised"), 403: _l("Forbidden"), 404: _l("Not found"),
    405: _l("Method not allowed"), 406: _l("Not acceptable"), 413: _l("Request too large"),
    415: _l("Unsupported media type"), 422: _l("Invalid input"), 429: _l("Too many requests"),
    500: _l("Internal server error"), 503: _l("Service unavailable"),
}


class ApiProblem(Exception):
    """Raised by the API's code to answer with one of the ``KINDS`` of problem."""

    def __init__(self, status: int, kind: str, detail=None, headers: dict | None = None):
        super().__init__(kind)
        self.status = status
        self.kind = kind
        self.detail = detail
        self.headers = headers or {}


def problem_type(kind: str) -> str:
    from certify.api import API_PREFIX

    return f"{API_PREFIX}/docs#problem-{kind}"


def problem_response(status: int, *, title=None, detail=None, kind: str | None = None,
                     errors: dict | None = None, headers: dict | None = None) -> Response:
    """A problem+json response."""
    body = {"type": problem_type(kind) if kind else "about:blank",
            "title": str(title or STATUS_TITLES.get(status, _l("Error"))), "status": status}
    if detail:
        body["detail"] = str(detail)
    if errors:
        body["errors"] = errors
    response = current_app.response_class(json.dumps(body, ensure_ascii=False), status=status,
                                          mimetype=PROBLEM_MEDIA_TYPE)
    response.headers.update(headers or {})
    return response


def from_problem(error: ApiProblem) -> Response:
    _status, title, detail = KINDS[error.kind]
    return problem_response(error.status, title=title, detail=error.detail or detail, kind=error.kind,
                            headers=error.headers)


def retry_after() -> int:
    """Seconds until the limit the current request spent starts a new window."""
    from certify.extensions import limiter

    current = limiter.current_limit
    if current is None:
        return 1
    return max(1, math.ceil(current.reset_at - time.time()))


def from_http_exception(error: HTTPException) -> Response:
    """An HTTP error raised in an API view (or before it) as a problem. Invalid input
    (webargs' 422) names the fields at fault; a spent rate limit says when to come back."""
    if error.code == 429:
        _status, title, detail = KINDS["rate-limited"]
        return problem_response(429, title=title, detail=detail, kind="rate-limited",
                                headers={"Retry-After": str(retry_after())})
    data = getattr(error, "data", None) or {}
    messages = data.get("messages") if isinstance(data, dict) else None
    detail = None if messages else getattr(error, "description", None)
    headers = {name: value for name, value in error.get_headers() if name.lower() in ("allow", "www-authenticate")}
    return problem_response(error.code or 500, detail=detail if error.code != 500 else None,
                            errors=messages, headers=headers)
