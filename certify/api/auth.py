"""Who calls the API: an anonymous caller, counted by address, or the holder of an API key sent
as ``Authorization: Bearer <key>``, counted by key at the key's own limit.

The caller is worked out once per request (``caller()``), first by the rate limiter, which runs
before the view. A key that is unknown or revoked is refused with 401 even on public endpoints:
a holder must learn that its key no longer works, rather than fall back to the anonymous limit.
"""

from dataclasses import dataclass

from flask import current_app, g, request
from flask_limiter.util import get_remote_address

from certify.api.models import ApiKey
from certify.api.problems import ApiProblem
from certify.api.services import find_api_key, note_use

BEARER = "bearer "


@dataclass(frozen=True)
class Caller:
    """The caller of the current request: ``api_key`` is None for an anonymous one;
    ``refused`` is set when a key was sent that cannot be used."""

    api_key: ApiKey | None = None
    refused: bool = False

    @property
    def limit_key(self) -> str:
        if self.api_key is not None:
            return f"api-key:{self.api_key.id}"
        return f"api-address:{get_remote_address()}"

    @property
    def rate_limit(self) -> str:
        if self.api_key is not None:
            return self.api_key.rate_limit or current_app.config["CERTIFY_API_KEY_RATE_LIMIT"]
        return current_app.config["CERTIFY_API_RATE_LIMIT"]


def _sent_key() -> str | None:
    header = request.headers.get("Authorization", "")
    if header[:len(BEARER)].lower() == BEARER:
        return header[len(BEARER):].strip() or None
    return None


def caller() -> Caller:
    """The current request's caller, worked out once."""
    if "api_caller" not in g:
        secret = _sent_key()
        if secret is None:
            g.api_caller = Caller()
        else:
            api_key = find_api_key(secret)
            g.api_caller = Caller(api_key) if api_key is not None and api_key.is_active else Caller(refused=True)
    return g.api_caller


def limit_key() -> str:
    """Flask-Limiter's key: the caller's key, else its address."""
    return caller().limit_key


def rate_limit() -> str:
    """Flask-Limiter's limit for the caller (read from the settings on each request)."""
    return caller().rate_limit


def authenticate() -> None:
    """Before every API view: refuse a key that cannot be used, and note the use of one that can."""
    current = caller()
    if current.refused:
        raise ApiProblem(401, "invalid-key", headers={"WWW-Authenticate": 'Bearer realm="certify"'})
    if current.api_key is not None:
        note_use(current.api_key)


def require_scope(scope: str) -> ApiKey:
    """The caller's key, which must allow ``scope``: 401 without a key, 403 with one that lacks it."""
    api_key = caller().api_key
    if api_key is None:
        raise ApiProblem(401, "key-required", headers={"WWW-Authenticate": 'Bearer realm="certify"'})
    if not api_key.allows(scope):
        raise ApiProblem(403, "scope-missing")
    return api_key
