"""Secrets kept in the database only sealed: a second factor's seed is stored encrypted (Fernet:
AES in CBC mode with an HMAC), under a key derived from the instance's audit key — a file kept
outside the database and its backups (see ``certify.audit.keys``). A database dump or backup alone
gives no one the seeds that make the one-time codes.

``Sealed`` is the column type: Python sees the plain value, the database the sealed text. A value
stored before sealing began (no prefix) is read as it is, and sealed the next time it is written.
"""

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app
from sqlalchemy import String
from sqlalchemy.types import TypeDecorator

from certify.audit.keys import create_key, load_key

PREFIX = "sealed1:"
_PURPOSE = b"certify: second-factor seeds at rest"
_CACHE = "certify.sealing"


def _fernet() -> Fernet:
    app = current_app._get_current_object()
    key = load_key(app) or create_key(app)
    cached = app.extensions.get(_CACHE)
    if cached is not None and cached[0] == key.id:
        return cached[1]
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_PURPOSE).derive(key.secret)
    fernet = Fernet(base64.urlsafe_b64encode(derived))
    app.extensions[_CACHE] = (key.id, fernet)
    return fernet


def seal(value: str) -> str:
    return PREFIX + _fernet().encrypt(value.encode("utf-8")).decode("ascii")


def unseal(stored: str) -> str:
    """The plain value of ``stored``; raises ``RuntimeError`` naming the key file when the key
    that sealed it is not the instance's key (restored from another instance, or replaced)."""
    if not stored.startswith(PREFIX):
        return stored
    try:
        return _fernet().decrypt(stored[len(PREFIX):].encode("ascii")).decode("utf-8")
    except InvalidToken:
        raise RuntimeError("A sealed secret cannot be opened with this instance's key: restore the "
                           "key file named by CERTIFY_AUDIT_KEY_FILE from the instance that wrote it") from None


class Sealed(TypeDecorator):
    """A short secret, sealed at rest (``String(255)`` in the database)."""

    impl = String(255)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return None if value is None else seal(value)

    def process_result_value(self, value, dialect):
        return None if value is None else unseal(value)
