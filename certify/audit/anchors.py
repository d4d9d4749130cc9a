"""Anchors: the log's newest event written, once a day, to a file outside the database
(``CERTIFY_AUDIT_ANCHOR_FILE``, default ``instance/audit-anchors.log``), so that deleting or
rewriting the newest events — which leaves no break in the chain, since nothing follows them —
is noticed by ``flask audit verify`` up to the last anchor.

The file only grows: one JSON object per line, ``{"at", "log", "event", "hash"}``. ``log`` is the
hash of the log's first event, which names the log an anchor was taken from: the anchors of
another database (a test or a development copy sharing the instance folder) are counted and left
aside. An anchor always names an ``audit.anchored`` event, written (with the audit key) and
committed before its line is.
"""

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from certify.audit.models import AuditEvent
from certify.audit.services import ChainBreak, log_identity, record_event
from certify.extensions import db
from certify.timeutil import utcnow

ANCHOR_FILE_SETTING = "CERTIFY_AUDIT_ANCHOR_FILE"
DEFAULT_ANCHOR_FILE = "audit-anchors.log"
ANCHORED = "audit.anchored"
_LOOKUP_CHUNK = 500


@dataclass(frozen=True)
class Anchor:
    """One line of the anchor file."""

    at: str  # when it was written, UTC, ISO 8601
    log: str  # the hash of the first event of the log it was taken from
    event_id: int
    hash: str


@dataclass
class AnchorCheck:
    """The anchor file against this database's log."""

    path: Path
    checked: int = 0  # anchors of this log
    problems: list[ChainBreak] = field(default_factory=list)
    other_logs: int = 0  # anchors taken from another log, left aside
    unreadable_lines: list[int] = field(default_factory=list)
    newest: Anchor | None = None  # the newest anchor of this log


def anchor_path(app=None) -> Path:
    """``CERTIFY_AUDIT_ANCHOR_FILE``, else ``instance/audit-anchors.log``."""
    app = app or current_app
    configured = app.config.get(ANCHOR_FILE_SETTING)
    return Path(configured) if configured else Path(app.instance_path) / DEFAULT_ANCHOR_FILE


def record_anchor(actor=None) -> AuditEvent:
    """Append the event the next anchor names, in the caller's transaction; once that has
    committed, ``write_anchor(event)`` writes its line."""
    return record_event(ANCHORED, actor=actor, details={"file": str(anchor_path())})


def write_anchor(event: AuditEvent) -> Anchor:
    """Append a line naming the committed ``event`` to the anchor file (made readable by its
    owner only), and flush it to disk."""
    anchor = Anchor(at=utcnow().strftime("%Y-%m-%dT%H:%M:%SZ"), log=log_identity(),
                    event_id=event.id, hash=event.hash)
    line = json.dumps({"at": anchor.at, "log": anchor.log, "event": anchor.event_id,
                       "hash": anchor.hash}, separators=(",", ":")) + "\n"
    path = anchor_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(descriptor, line.encode("ascii"))
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
    return anchor


def read_anchors(path: Path) -> tuple[list[Anchor], list[int]]:
    """The anchors in ``path`` (none if it does not exist), and the numbers of lines that are
    not anchors."""
    anchors, unreadable = [], []
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return [], []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
            anchors.append(Anchor(at=str(value["at"]), log=str(value["log"]),
                                  event_id=int(value["event"]), hash=str(value["hash"])))
        except (ValueError, KeyError, TypeError):
            unreadable.append(number)
    return anchors, unreadable


def check_anchors(path: Path | None = None) -> AnchorCheck:
    """Every anchor of this log must still name an event with the hash it had: an event that is
    gone was deleted (with every event after it), one with another hash was rewritten."""
    path = path or anchor_path()
    check = AnchorCheck(path=path)
    anchors, check.unreadable_lines = read_anchors(path)
    identity = log_identity()
    mine = [anchor for anchor in anchors if identity is not None and anchor.log == identity]
    check.other_logs = len(anchors) - len(mine)
    check.checked = len(mine)
    check.newest = max(mine, key=lambda anchor: anchor.event_id, default=None)
    hashes = _hashes_of({anchor.event_id for anchor in mine})
    for anchor in mine:
        found = hashes.get(anchor.event_id)
        if found is None:
            check.problems.append(ChainBreak(anchor.event_id, (
                f"event {anchor.event_id}, anchored at {anchor.at}, is no longer in the log: it "
                "and the events after it were deleted")))
        elif found != anchor.hash:
            check.problems.append(ChainBreak(anchor.event_id, (
                f"event {anchor.event_id} was rewritten after it was anchored at {anchor.at}")))
    return check


def _hashes_of(event_ids: set[int]) -> dict[int, str]:
    ids = sorted(event_ids)
    found = {}
    for start in range(0, len(ids), _LOOKUP_CHUNK):
        found |= dict(db.session.execute(
            select(AuditEvent.id, AuditEvent.hash)
            .where(AuditEvent.id.in_(ids[start:start + _LOOKUP_CHUNK]))).all())
    return found
