"""Writing and checking the audit log.

Every service function that changes state calls :func:`record_event` inside its transaction.
Events form a hash chain: each row's hash covers its own fields and the previous row's hash.
The hash is an HMAC-SHA256 made with the audit key (``certify.audit.keys``), which is kept outside
the database, so that whoever can write rows but not read that file cannot make a rewritten row
check. Rows written before the key existed keep their plain SHA-256; they can only come before
the first keyed row, so a row without the key after it is a rewritten or inserted one.
"""

import hashlib
import json
from dataclasses import dataclass, field
from types import SimpleNamespace

from sqlalchemy import func, insert, select, text

from certify.audit.keys import AuditKey, AuditKeyError, create_key, key_path, load_key
from certify.audit.models import AuditEvent
from certify.extensions import db
from certify.timeutil import as_utc, utcnow

GENESIS_HASH = "0" * 64
# Key of the PostgreSQL advisory lock that serialises appends to the chain.
_CHAIN_LOCK_KEY = 7_260_001
# Session info key: (transaction, hash of the last event it appended).
_HEAD_KEY = "certify.audit_head"


def _canonical(value) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


def event_hash(event, prev_hash: str, key: AuditKey | None = None) -> str:
    """The hash that ``event`` (a row or an event) must carry when it follows a row whose hash is
    ``prev_hash``: an HMAC-SHA256 with ``key`` (its id included), or without a key the plain
    SHA-256 of the rows written before the key existed."""
    payload = {
        "prev": prev_hash,
        "at": as_utc(event.created_at).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "actor": event.actor_id,
        "action": event.action,
        "object": [event.object_type, event.object_id],
        "details": event.details or {},
    }
    if key is None:
        return hashlib.sha256(_canonical(payload).encode("utf-8")).hexdigest()
    payload["key"] = key.id
    return key.mac(_canonical(payload).encode("utf-8"))


def event_is_authentic(event) -> bool:
    """Whether ``event``'s own hash checks (with the audit key, when it was made with it). This
    says nothing of the rows around it; ``verify_chain`` walks them all."""
    if event.key_id is None:
        return event_hash(event, event.prev_hash) == event.hash
    try:
        key = load_key()
    except AuditKeyError:
        return False
    return (key is not None and key.id == event.key_id
            and event_hash(event, event.prev_hash, key) == event.hash)


def _signing_key(previous_key_id: str | None) -> AuditKey:
    """The key the next event is made with. The first keyed event makes the key file; after it,
    a missing or different key stops every write (the log could no longer be verified)."""
    key = load_key()
    if key is None:
        if previous_key_id is not None:
            raise AuditKeyError(
                f"the audit log is kept with audit key {previous_key_id}, but {key_path()} does not "
                "exist: restore that file from its own backup (it is never in the database's)")
        key = create_key()
    if previous_key_id is not None and key.id != previous_key_id:
        raise AuditKeyError(
            f"the audit log is kept with audit key {previous_key_id}, but {key.path} holds key "
            f"{key.id}: put back the file that holds key {previous_key_id}")
    return key


def _lock_chain() -> None:
    """Hold the database's write lock before the chain's head is read, so that two transactions
    (two worker processes) never chain onto the same previous row — the unique prev_hash would
    refuse the second, and its request would fail. PostgreSQL: an advisory lock until the end of
    the transaction. SQLite: a statement that writes nothing still takes the one write lock
    (waiting for another writer to commit), and the head read after it is the newest."""
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CHAIN_LOCK_KEY})
    elif dialect == "sqlite":
        db.session.execute(text("UPDATE audit_events SET id = id WHERE 0"))


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
    prev_hash, previous_key_id = _chain_head(session, transaction)
    key = _signing_key(previous_key_id)
    event = AuditEvent(
        created_at=utcnow(),
        actor_id=actor.id if actor is not None else None,
        action=action,
        object_type=object_type or "system",
        object_id=None if object_id is None else str(object_id),
        details=json.loads(_canonical(details or {})),
        prev_hash=prev_hash,
        key_id=key.id,
    )
    event.hash = event_hash(event, prev_hash, key)
    session.add(event)
    session.flush()
    session.info[_HEAD_KEY] = (transaction, event.hash, key.id)
    return event


def pending_event(action: str, *, actor=None, obj=None, details: dict | None = None,
                  created_at=None) -> dict:
    """An event for ``record_events``, as ``record_event`` would record it (``obj`` must have its
    id already: flush first)."""
    return {"action": action, "created_at": created_at or utcnow(),
            "actor_id": actor.id if actor is not None else None,
            "object_type": obj.__tablename__ if obj is not None else None,
            "object_id": obj.id if obj is not None else None, "details": details or {}}


def record_events(events: list[dict], chunk: int = 2000) -> int:
    """Append many events in the current transaction, in the order given, as ``record_event``
    appends one (the same chain, key and lock), inserted a few thousand rows at a time: the
    bulk path for volume data. Each item holds ``action``, ``created_at`` and, as needed,
    ``actor_id``, ``object_type``, ``object_id`` and ``details``. Returns how many were added."""
    if not events:
        return 0
    session = db.session()
    session.flush()
    transaction = session.get_transaction()
    prev_hash, previous_key_id = _chain_head(session, transaction)
    key = _signing_key(previous_key_id)
    next_id = (session.execute(select(func.max(AuditEvent.id))).scalar() or 0) + 1
    rows = []
    for number, item in enumerate(events):
        row = {"id": next_id + number, "created_at": item["created_at"], "actor_id": item.get("actor_id"),
               "action": item["action"], "object_type": item.get("object_type") or "system",
               "object_id": None if item.get("object_id") is None else str(item["object_id"]),
               "details": json.loads(_canonical(item.get("details") or {})), "prev_hash": prev_hash,
               "key_id": key.id}
        row["hash"] = prev_hash = event_hash(SimpleNamespace(**row), prev_hash, key)
        rows.append(row)
    for start in range(0, len(rows), chunk):
        session.execute(insert(AuditEvent), rows[start:start + chunk])
    if session.get_bind().dialect.name == "postgresql":  # the ids were given: move the sequence on
        session.execute(text("SELECT setval(pg_get_serial_sequence('audit_events', 'id'), :last)"),
                        {"last": rows[-1]["id"]})
    session.info[_HEAD_KEY] = (transaction, prev_hash, key.id)
    return len(rows)


def _chain_head(session, transaction) -> tuple[str, str | None]:
    """The hash the next event follows, and the key id of the row that has it. The first event
    of a transaction locks the chain (held until the transaction ends) and reads the last row;
    later ones follow the event this same transaction appended last, which no one else can have
    followed meanwhile (a batch announcement appends thousands)."""
    known = session.info.get(_HEAD_KEY)
    if known is not None and known[0] is transaction:
        return known[1], known[2]
    _lock_chain()
    last = session.execute(
        select(AuditEvent.hash, AuditEvent.key_id).order_by(AuditEvent.id.desc()).limit(1)
    ).first()
    return (last.hash, last.key_id) if last is not None else (GENESIS_HASH, None)


def log_identity() -> str | None:
    """The hash of the log's first event: it names this log (anchors say which log they were
    taken from). ``None`` while the log is empty."""
    return db.session.execute(
        select(AuditEvent.hash).order_by(AuditEvent.id).limit(1)).scalar_one_or_none()


_HASHED_COLUMNS = (
    AuditEvent.id, AuditEvent.created_at, AuditEvent.actor_id, AuditEvent.action,
    AuditEvent.object_type, AuditEvent.object_id, AuditEvent.details, AuditEvent.prev_hash,
    AuditEvent.hash, AuditEvent.key_id,
)


@dataclass(frozen=True)
class ChainBreak:
    """The event at which the log fails a check, and why."""

    event_id: int
    reason: str


@dataclass
class ChainWalk:
    """What walking the whole chain found."""

    checked: int = 0
    keyed: int = 0  # rows whose HMAC was checked with the audit key
    breaks: list[ChainBreak] = field(default_factory=list)
    key: AuditKey | None = None
    first_keyed_id: int | None = None
    newest: tuple[int, str] | None = None  # id and hash of the newest row


def verify_chain(batch_size: int = 1000) -> tuple[int, list[ChainBreak]]:
    """Walk the whole chain; return the number of events checked and every break found."""
    walk = walk_chain(batch_size)
    return walk.checked, walk.breaks


def walk_chain(batch_size: int = 1000) -> ChainWalk:
    """Check every row against the one before it, in batches of ``batch_size`` (memory stays
    flat): its link, its hash (an HMAC with the audit key for keyed rows), and that no row
    without the key follows a keyed one."""
    walk = ChainWalk()
    try:
        walk.key = load_key()
        key_problem = None
    except AuditKeyError as error:
        key_problem = str(error)
    unverifiable_reported = False
    prev_hash = GENESIS_HASH
    last_id = 0
    first_id = None
    while True:
        rows = db.session.execute(
            select(*_HASHED_COLUMNS).where(AuditEvent.id > last_id)
            .order_by(AuditEvent.id).limit(batch_size)
        ).all()
        if not rows:
            break
        for event in rows:
            walk.checked += 1
            first_id = first_id or event.id
            if event.key_id is not None and walk.first_keyed_id is None:
                walk.first_keyed_id = event.id
            if event.prev_hash != prev_hash:
                walk.breaks.append(ChainBreak(event.id, "previous hash does not match the row before"))
            elif event.key_id is None:
                if walk.first_keyed_id is not None:
                    walk.breaks.append(ChainBreak(
                        event.id, "written without the audit key after the keyed log began (at "
                        f"event {walk.first_keyed_id}): the row was rewritten or inserted"))
                elif event_hash(event, prev_hash) != event.hash:
                    walk.breaks.append(ChainBreak(event.id, "contents do not match the row's hash"))
            elif walk.key is None or walk.key.id != event.key_id:
                if not unverifiable_reported:
                    unverifiable_reported = True
                    walk.breaks.append(ChainBreak(event.id, _unverifiable(event.key_id, walk.key, key_problem)))
            else:
                walk.keyed += 1
                if event_hash(event, prev_hash, walk.key) != event.hash:
                    walk.breaks.append(ChainBreak(event.id, "contents do not match the row's hash"))
            prev_hash = event.hash
            last_id = event.id
        walk.newest = (rows[-1].id, rows[-1].hash)
    if walk.key is not None and walk.checked and walk.first_keyed_id is None:
        walk.breaks.append(ChainBreak(first_id, (
            "no event of the log is keyed, although the audit key exists: the log was rewritten "
            f"without the key, or the key file {walk.key.path} belongs to another database")))
    return walk


def _unverifiable(row_key_id: str, key: AuditKey | None, key_problem: str | None) -> str:
    if key_problem:
        found = key_problem
    elif key is None:
        found = f"{key_path()} does not exist"
    else:
        found = f"{key.path} holds key {key.id}"
    return (f"made with audit key {row_key_id}, but {found}: this and the later keyed rows cannot "
            "be checked until that key file is restored")
