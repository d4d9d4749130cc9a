"""Rate limits that hold across processes.

Flask-Limiter keeps its counters in the store that ``RATELIMIT_STORAGE_URI`` names. The
in-memory store (``memory://``) counts in each process, so every gunicorn worker would grant the
whole limit again. Here the counters are shared by every process: in Redis when ``REDIS_URL`` is
set, else in the application's own database (``database://``, SQLite or PostgreSQL), on the table
``rate_limit_counters``.

When Redis cannot be reached, the limits are counted in each process's memory until it answers
again (Flask-Limiter's in-memory fallback, which checks every so often whether the store is back):
signing in, /verify and the API keep working through an outage, each process granting the limits
by itself meanwhile, rather than failing every request they guard. ``take`` falls back the same way.

The database store keeps fixed windows: a key's window starts at its first hit and lasts the
limit's period; the first hit after it starts a new one. A hit is one atomic statement (INSERT …
ON CONFLICT DO UPDATE … RETURNING, SQLite ≥ 3.35 and PostgreSQL), so two processes can never both
take the last unit. Rows of windows that have ended are deleted now and then.
"""

import hashlib
import logging
import time

from flask import Flask
from limits import parse, parse_many
from limits.errors import ConfigurationError
from limits.storage import MemoryStorage, Storage
from limits.strategies import FixedWindowRateLimiter
from sqlalchemy import Float, Integer, String, case, delete, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Mapped, mapped_column

from certify.extensions import db, limiter

log = logging.getLogger(__name__)

DATABASE_SCHEME = "database"
# Keys name the limit and what it counts (an address, an e-mail typed); longer ones are shortened
# with a digest of the whole, so that two keys never share a row.
MAX_KEY_LENGTH = 255
# How often one process deletes the rows of ended windows.
CLEANING_INTERVAL_SECONDS = 60


class RateLimitCounter(db.Model):
    """One rate limit key's hits in its current window."""

    __tablename__ = "rate_limit_counters"

    key: Mapped[str] = mapped_column(String(MAX_KEY_LENGTH), primary_key=True)
    hits: Mapped[int] = mapped_column(Integer)
    # Seconds since the epoch at which the window ends.
    expires_at: Mapped[float] = mapped_column(Float, index=True)


def _stored_key(key: str) -> str:
    if len(key) <= MAX_KEY_LENGTH:
        return key
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()
    return f"{key[:MAX_KEY_LENGTH - len(digest) - 1]}#{digest}"


_INSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


class DatabaseStorage(Storage):
    """A ``limits`` storage on the ``rate_limit_counters`` table of the current application's
    database (Flask-SQLAlchemy's engine, so it needs an application context, as every request
    has). Each call runs on a connection of its own, outside the request's transaction: a hit
    counts even when the request that made it is rolled back."""

    STORAGE_SCHEME = [DATABASE_SCHEME]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self._cleaned_at = 0.0

    @property
    def base_exceptions(self) -> type[Exception]:
        return SQLAlchemyError

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        """Add ``amount`` hits to ``key``'s window (a new one if none is running); the total."""
        engine = db.engine
        insert = _INSERTS.get(engine.dialect.name)
        if insert is None:
            raise ConfigurationError(f"database:// rate limits need SQLite or PostgreSQL, not {engine.dialect.name}")
        table = RateLimitCounter.__table__
        now = time.time()
        ended = table.c.expires_at <= now
        statement = (
            insert(table).values(key=_stored_key(key), hits=amount, expires_at=now + expiry)
            .on_conflict_do_update(index_elements=[table.c.key], set_={
                "hits": case((ended, amount), else_=table.c.hits + amount),
                "expires_at": case((ended, now + expiry), else_=table.c.expires_at),
            })
            .returning(table.c.hits)
        )
        # One atomic statement needs no transaction around it: in autocommit it is one round trip
        # to the database rather than three (BEGIN, the statement, COMMIT), on every request.
        with engine.connect() as connection:
            hits = connection.execution_options(isolation_level="AUTOCOMMIT").execute(statement).scalar_one()
        if now - self._cleaned_at > CLEANING_INTERVAL_SECONDS:
            self._cleaned_at = now
            self._delete_ended(engine, now)
        return hits

    @staticmethod
    def _delete_ended(engine, now: float) -> None:
        """Delete the rows of windows ended before ``now``: after the hit, in a transaction of its
        own, and on PostgreSQL skipping the rows another transaction holds. Two processes cleaning
        at once otherwise lock the same rows in different orders, and PostgreSQL ends one of them
        as a deadlock, a request answered with a server error. Best effort: a row left behind
        goes at the next cleaning."""
        table = RateLimitCounter.__table__
        ended = select(table.c.key).where(table.c.expires_at < now)
        if engine.dialect.name == "postgresql":
            ended = ended.with_for_update(skip_locked=True)
        try:
            with engine.begin() as connection:
                connection.execute(delete(table).where(table.c.key.in_(ended.scalar_subquery())))
        except SQLAlchemyError:
            log.warning("Could not delete ended rate-limit windows; the next cleaning will", exc_info=True)

    def get(self, key: str) -> int:
        table = RateLimitCounter.__table__
        with db.engine.connect() as connection:
            hits = connection.execute(select(table.c.hits).where(
                table.c.key == _stored_key(key), table.c.expires_at > time.time())).scalar()
        return hits or 0

    def get_expiry(self, key: str) -> float:
        table = RateLimitCounter.__table__
        now = time.time()
        with db.engine.connect() as connection:
            expires_at = connection.execute(select(table.c.expires_at).where(
                table.c.key == _stored_key(key), table.c.expires_at > now)).scalar()
        return expires_at or now

    def check(self) -> bool:
        try:
            with db.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except SQLAlchemyError:
            return False
        return True

    def reset(self) -> int | None:
        with db.engine.begin() as connection:
            return connection.execute(delete(RateLimitCounter.__table__)).rowcount

    def clear(self, key: str) -> None:
        table = RateLimitCounter.__table__
        with db.engine.begin() as connection:
            connection.execute(delete(table).where(table.c.key == _stored_key(key)))


def storage_uri(app: Flask) -> str:
    """Where rate limits are counted: ``RATELIMIT_STORAGE_URI`` when given, else Redis when
    ``REDIS_URL`` is set, else the application's database."""
    return (app.config.get("RATELIMIT_STORAGE_URI") or app.config.get("REDIS_URL")
            or f"{DATABASE_SCHEME}://")


def init_app(app: Flask) -> None:
    app.config["RATELIMIT_STORAGE_URI"] = storage_uri(app)
    app.config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    limiter.init_app(app)


def check_rate_limit(text: str) -> str:
    """``text`` as a rate limit (``"600 per minute"``, several joined by ``;``), trimmed; else
    ``ValueError``."""
    text = (text or "").strip()
    try:
        if not text or not parse_many(text):
            raise ValueError(text)
    except ValueError as error:
        raise ValueError(f"not a rate limit: {text!r} (write e.g. 600 per minute)") from error
    return text


def take(limit: str, *identifiers: str) -> bool:
    """Count one hit of ``limit`` (e.g. "3 per hour") for ``identifiers`` in the shared store;
    ``False`` once the limit is spent. For limits that change what a service does rather than
    refuse the request (a mail not sent, the page the same)."""
    if not limiter.enabled:
        return True
    try:
        return limiter.limiter.hit(parse(limit), "certify", *identifiers)
    except Exception:  # noqa: BLE001 - whatever the store's client raises when it cannot be reached
        log.warning("Rate limit store unreachable: %s counted in this process only", limit, exc_info=True)
        return _in_this_process.hit(parse(limit), "certify", *identifiers)


# ``take``'s counters while the shared store cannot be reached.
_in_this_process = FixedWindowRateLimiter(MemoryStorage())
