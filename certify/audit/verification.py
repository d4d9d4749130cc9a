"""Verifying the whole audit chain on an administrator's request: recorded, run by a job after the
commit (the walk reads every event, which no request should wait for), checked against the anchors
kept outside the database too, and its outcome recorded as an event of the chain itself."""

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from certify.audit.anchors import check_anchors
from certify.audit.models import AuditEvent
from certify.audit.services import record_event, verify_chain
from certify.auth.models import Role
from certify.exceptions import PermissionDenied
from certify.extensions import db
from certify.jobs import call_after_commit

VERIFICATION_REQUESTED = "audit.verification_requested"
CHAIN_VERIFIED = "audit.chain_verified"
# Problems a verification records in its event (the count is always recorded).
_PROBLEMS_RECORDED = 20


def request_verification(actor) -> None:
    """Have the whole chain verified by a job once the caller's transaction commits: the walk
    reads every event, which no request should wait for. Administrators only; audited."""
    if actor is None or actor.role != Role.ADMIN:
        raise PermissionDenied(_l("Only the department can do this."))
    record_event(VERIFICATION_REQUESTED, actor=actor)
    call_after_commit(verify_chain_job, actor.id)


def verify_chain_job(requested_by: int | None = None) -> None:
    """Job: walk the chain, check it against the anchors kept outside the database, and record
    what was found as an event of the chain itself."""
    checked, breaks = verify_chain()
    anchors = check_anchors()
    breaks += anchors.problems
    record_event(CHAIN_VERIFIED, details={
        "checked": checked, "problems": len(breaks), "requested_by": requested_by,
        "anchors_checked": anchors.checked,
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
