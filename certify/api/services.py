"""API keys: made, revoked and recognised. Making and revoking are audited; a key's use is
noted on the key (``last_used_at``), not in the audit log, which it would flood."""

import hashlib
import secrets
from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from certify.api.models import SCOPES, ApiKey
from certify.audit.services import record_event
from certify.auth.models import Role
from certify.exceptions import PermissionDenied, ServiceError
from certify.extensions import db
from certify.ratelimit import check_rate_limit
from certify.timeutil import as_utc, utcnow

KEY_PREFIX = "cfy_"
# Characters of a key kept in clear to recognise it in lists (the prefix and a few more).
SHOWN_CHARACTERS = 10
# A key's last use is written at most this often (a busy key would otherwise write every call).
LAST_USED_RESOLUTION = timedelta(minutes=1)


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _require_admin(user) -> None:
    if user is None or user.role != Role.ADMIN:
        raise PermissionDenied(_l("Only administrators manage API keys."))


def create_api_key(admin, *, name: str, holder: str, scopes, rate_limit: str | None = None) -> tuple[ApiKey, str]:
    """Make a key for ``holder``; returns the key and its secret, which is never stored and so
    shown only this once."""
    _require_admin(admin)
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown:
        raise ServiceError(_l("Unknown scope: %(scopes)s", scopes=", ".join(unknown)), field="scopes")
    if rate_limit:
        try:
            rate_limit = check_rate_limit(rate_limit)
        except ValueError:
            raise ServiceError(_l("Write a rate limit such as “600 per minute”."), field="rate_limit") from None
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    api_key = ApiKey(name=name.strip(), holder=holder.strip(), prefix=secret[:SHOWN_CHARACTERS],
                     key_sha256=key_digest(secret), scopes=sorted(set(scopes)), rate_limit=rate_limit or None,
                     created_by_id=admin.id, created_at=utcnow())
    db.session.add(api_key)
    record_event("api_key.created", actor=admin, obj=api_key, details={
        "name": api_key.name, "holder": api_key.holder, "scopes": api_key.scopes,
        "rate_limit": api_key.rate_limit, "prefix": api_key.prefix})
    return api_key, secret


def revoke_api_key(admin, api_key: ApiKey) -> None:
    """Revoke ``api_key``: every later call with it is refused (401)."""
    _require_admin(admin)
    if api_key.revoked_at is not None:
        raise ServiceError(_l("This key was already revoked."))
    api_key.revoked_at = utcnow()
    api_key.revoked_by_id = admin.id
    record_event("api_key.revoked", actor=admin, obj=api_key,
                 details={"name": api_key.name, "holder": api_key.holder, "prefix": api_key.prefix})


def find_api_key(secret: str) -> ApiKey | None:
    """The key whose secret is ``secret`` (revoked or not), if any."""
    if not secret.startswith(KEY_PREFIX):
        return None
    return db.session.execute(select(ApiKey).where(ApiKey.key_sha256 == key_digest(secret))).scalar_one_or_none()


def note_use(api_key: ApiKey) -> None:
    """Record that ``api_key`` was used now, in a short transaction of its own (an API request
    changes nothing else), at most once per ``LAST_USED_RESOLUTION``."""
    now = utcnow()
    last = api_key.last_used_at
    if last is not None and now - as_utc(last) < LAST_USED_RESOLUTION:
        return
    with db.engine.begin() as connection:
        connection.execute(update(ApiKey.__table__).where(ApiKey.__table__.c.id == api_key.id)
                           .values(last_used_at=now))
