"""API keys: what a bank or platform sends to call the API with its own rate limit and scopes.

Only the SHA-256 of a key is stored: the key itself is shown once, when it is made. A key is
32 random bytes, so a plain digest (not a slow password hash) is enough to make the stored value
useless to whoever reads the table, and it lets a request's key be found by one indexed lookup.
"""

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from certify.extensions import db
from certify.timeutil import utcnow

# What a key may do beyond the public endpoints (every key may call those, at its own limit).
SCOPE_LOOKUP = "certificates:lookup"
SCOPES = {
    SCOPE_LOOKUP: _l("Look up many certificates at once (by credit code or number)"),
}


class ApiKey(db.Model):
    """A key given to one holder (a bank, a platform), revocable, with the time it was last used."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    holder: Mapped[str] = mapped_column(String(200))
    # The first characters of the key, shown in lists so that a holder's key can be recognised.
    prefix: Mapped[str] = mapped_column(String(16))
    key_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[list] = mapped_column(JSON, default=list)
    # A Flask-Limiter limit such as "600 per minute"; none: the deployment's default for keys.
    rate_limit: Mapped[str | None] = mapped_column(String(100))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    created_by = relationship("User", foreign_keys=[created_by_id])

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def allows(self, scope: str) -> bool:
        return self.is_active and scope in (self.scopes or [])
