"""Writing and checking the audit log.

Every service function that changes state calls :func:`record_event` inside its transaction.
Events form a hash chain: each row's hash covers its own fields and the previous row's hash.
"""

import hashlib
import json
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, text

from certify.audit.models import AuditEvent
from certify.exceptions import PermissionDenied
from certify.extensions import db
from certify.jobs import call_after_commit
from certify.timeutil import as_utc, utcnow

GENESIS_HASH = "0" * 64
# Key of the PostgreSQL advisory lock that serialises appends to the chain.
_CHAIN_LOCK_KEY = 7_260_001
# Session info key: (transaction, hash of the last event it appended).
_HEAD_KEY = "certify.audit_head"


def _canonical(value) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


def event_hash(event, prev_hash: str) -> str:
    """The hash that ``event`` (a row or an event) must carry when it follows a row whose hash is ``prev_hash``."""
    payload = {
        "prev": prev_hash,
        "at": as_utc(event.created_at).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "actor": event.actor_id,
        "action": event.action,
        "object": [event.object_type, event.object_id],
        "details": event.details or {},
    }
    return hashlib.sha256(_canonical(payload).encode("utf-8")).hexdigest()


def _lock_chain() -> None:
    # SQLite serialises writers by itself; PostgreSQL needs a lock so that two transactions never
    # chain onto the same previous row (the unique prev_hash would refuse the second anyway).
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CHAIN_LOCK_KEY})


def record_event(action: str, *, actor=None, obj=None, object_type: str | None = None,
                 object_id=None, details: dict | None = None) -> AuditEvent:
    """Append an event to the audit log in the current transaction.

    ``obj`` may be any model instance with an ``id``; its table name becomes the object type.
    """
    if obj is not None:
        db.session.flush()  # so that a new object has its id
        object_type = object_type or obj.__tablename__
        object_id = obj.id
    session = db.session()
    session.connection()  # the transaction has begun, so it can be told apart from the next
    transaction = session.get_transaction()
    prev_hash = _chain_head(session, transaction)
    event = AuditEvent(
        created_at=utcnow(),
        actor_id=actor.id if actor is not None else None,
        action=action,
        object_type=object_type or "system",
        object_id=None if object_id is None else str(object_id),
        details=json.loads(_canonical(details or {})),
        prev_hash=prev_hash,
    )
    event.hash = event_hash(event, prev_hash)
    session.add(event)
    session.flush()
    session.info[_HEAD_KEY] = (transaction, event.hash)
    return event


def _chain_head(session, transaction) -> str:
    """The hash the next event follows. The first event of a transaction locks the chain (held
    until the transaction ends) and reads the last row; later ones follow the event this same
    transaction appended last, which no one else can have followed meanwhile (a batch
    announcement appends thousands)."""
    known = session.info.get(_HEAD_KEY)
    if known is not None and known[0] is transaction:
        return known[1]
    _lock_chain()
    last = session.execute(
        select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)
    ).scalar_one_or_none()
    return last or GENESIS_HASH


_HASHED_COLUMNS = (
    AuditEvent.id, AuditEvent.created_at, AuditEvent.actor_id, AuditEvent.action,
    AuditEvent.object_type, AuditEvent.object_id, AuditEvent.details, AuditEvent.prev_hash,
    AuditEvent.hash,
)


@dataclass(frozen=True)
class ChainBreak:
    event_id: int
    reason: str


def verify_chain(batch_size: int = 1000) -> tuple[int, list[ChainBreak]]:
    """Walk the whole chain; return the number of events checked and every break found."""
    checked = 0
    breaks: list[ChainBreak] = []
    prev_hash = GENESIS_HASH
    last_id = 0
    while True:
        rows = db.session.execute(
            select(*_HASHED_COLUMNS).where(AuditEvent.id > last_id)
            .order_by(AuditEvent.id).limit(batch_size)
        ).all()
        if not rows:
            return checked, breaks
        for event in rows:
            checked += 1
            if event.prev_hash != prev_hash:
                breaks.append(ChainBreak(event.id, "previous hash does not match the row before"))
            elif event_hash(event, prev_hash) != event.hash:
                breaks.append(ChainBreak(event.id, "contents do not match the row's hash"))
            prev_hash = event.hash
            last_id = event.id


VERIFICATION_REQUESTED = "audit.verification_requested"
CHAIN_VERIFIED = "audit.chain_verified"
# Problems a verification records in its event (the count is always recorded).
_PROBLEMS_RECORDED = 20


def request_verification(actor) -> None:
    """Have the whole chain verified by a job once the caller's transaction commits: the walk
    reads every event, which no request should wait for. Administrators only; audited."""
    from certify.auth.models import Role

    if actor is None or actor.role != Role.ADMIN:
        raise PermissionDenied(_l("Only the department can do this."))
    record_event(VERIFICATION_REQUESTED, actor=actor)
    call_after_commit(verify_chain_job, actor.id)


def verify_chain_job(requested_by: int | None = None) -> None:
    """Job: walk the chain and record what was found as an event of the chain itself."""
    checked, breaks = verify_chain()
    record_event(CHAIN_VERIFIED, details={
        "checked": checked, "problems": len(breaks), "requested_by": requested_by,
        "first_problems": [{"event_id": b.event_id, "reason": b.reason} for b in breaks[:_PROBLEMS_RECORDED]],
    })
    db.session.commit()


def latest_verification() -> tuple[AuditEvent | None, bool]:
    """The newest recorded verification, and whether one requested since is still to come."""
    latest = db.session.execute(
        select(AuditEvent).where(AuditEvent.action.in_([VERIFICATION_REQUESTED, CHAIN_VERIFIED]))
        .order_by(AuditEvent.id.desc()).limit(1)).scalar_one_or_none()
    if latest is None or latest.action == CHAIN_VERIFIED:
        return latest, False
    done = db.session.execute(
        select(AuditEvent).where(AuditEvent.action == CHAIN_VERIFIED)
        .order_by(AuditEvent.id.desc()).limit(1)).scalar_one_or_none()
    return done, True
