"""The audit key: the secret that turns the audit log's hashes into HMAC-SHA256, kept in a file
outside the database (``CERTIFY_AUDIT_KEY_FILE``, default ``instance/audit_key``).

Whoever can write to the database but cannot read this file cannot rewrite an event and give it
a hash that checks. The file is made (random, readable by its owner only) when the first event is
written without one; once the log holds keyed events, a missing or different key is an error
that names the file to restore, never a reason to make a new key.
"""

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from flask import current_app

KEY_FILE_SETTING = "CERTIFY_AUDIT_KEY_FILE"
DEFAULT_KEY_FILE = "audit_key"
MIN_KEY_LENGTH = 32
_CACHE = "certify.audit_key"
_ID_LABEL = b"certify audit key id"


class AuditKeyError(RuntimeError):
    """The audit key cannot be used; the message says which file and what to do."""


@dataclass(frozen=True, repr=False)
class AuditKey:
    """The key's secret, its public id (a fingerprint that reveals nothing of it; stored on every
    keyed event), and the file it came from."""

    secret: bytes
    id: str
    path: Path

    def __repr__(self) -> str:  # never the secret, in logs or tracebacks
        return f"<AuditKey {self.id} from {self.path}>"

    def mac(self, message: bytes) -> str:
        return hmac.new(self.secret, message, hashlib.sha256).hexdigest()


def key_path(app=None) -> Path:
    """Where the key is kept: ``CERTIFY_AUDIT_KEY_FILE``, else ``instance/audit_key``."""
    app = app or current_app
    configured = app.config.get(KEY_FILE_SETTING)
    return Path(configured) if configured else Path(app.instance_path) / DEFAULT_KEY_FILE


def key_id(secret: bytes) -> str:
    return hmac.new(secret, _ID_LABEL, hashlib.sha256).hexdigest()[:16]


def load_key(app=None) -> AuditKey | None:
    """The key, or ``None`` when its file does not exist. Read once per application; raises
    ``AuditKeyError`` for a file that cannot be read or is too short to be a key."""
    app = app or current_app._get_current_object()
    path = key_path(app)
    cached = app.extensions.get(_CACHE)
    if cached is not None and cached.path == path:
        return cached
    try:
        text = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as error:
        raise AuditKeyError(f"the audit key file {path} cannot be read ({error}): give the "
                            "application's user read access to it") from error
    if len(text) < MIN_KEY_LENGTH:
        raise AuditKeyError(f"the audit key file {path} holds {len(text)} characters, fewer than "
                            f"{MIN_KEY_LENGTH}: it is not a key made by certify")
    secret = text.encode("utf-8")
    key = app.extensions[_CACHE] = AuditKey(secret=secret, id=key_id(secret), path=path)
    return key


def create_key(app=None) -> AuditKey:
    """Make the key file (64 random hexadecimal characters, mode 0600), unless another process
    made it first; return the key in the file."""
    app = app or current_app._get_current_object()
    path = key_path(app)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written under a temporary name and linked into place: another process never reads half a
    # key, and of two processes making one at once the first link wins.
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(secrets.token_hex(32) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass
    finally:
        temporary.unlink(missing_ok=True)
    return load_key(app)
