"""Re-scoring a submitted application with today's settings: an administrator's deliberate act.

A submitted self-assessment and a submitted score sheet keep the result frozen with them; this is
the one way to score them again. The answers and the pinned rule set stay as they were; what
changes is the terms, taken as a new application of the same rule-set version would get them
today. Every result replaced is kept beside its successor (``Rescore``) and the act is audited;
the caller commits once.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from certify.audit.services import record_event
from certify.auth.models import Role
from certify.exceptions import PermissionDenied, ServiceError
from certify.extensions import db
from certify.rulesets.applied import confirmed_declarations, freeze, rule_set_of, terms_for_new
from certify.rulesets.forms import for_engine
from certify.rulesets.models import Rescore
from certify.scoring import score
from certify.timeutil import utcnow
from certify.workflow import AWAITING_DECISION

# Before the department decides: a decision, a notice or a certificate rests on the result frozen
MAX_REASON_LENGTH = 2000


def can_rescore(user, application) -> bool:
    return user.is_authenticated and user.role == Role.ADMIN and application.status in AWAITING_DECISION


def rescore_application(admin, application, *, reason: str, sheets=()) -> list[Rescore]:
    """Score the self-assessment and the given submitted score sheets again with the terms in
    force today; keep each earlier result beside the new one. Returns the re-scores recorded."""
    if admin.role != Role.ADMIN:
        raise PermissionDenied(_l("Only administrators can do this."))
    if application.status not in AWAITING_DECISION:
        raise ServiceError(_l("Only an application not yet decided can be re-scored."))
    reason = (reason or "").strip()[:MAX_REASON_LENGTH]
    if not reason:
        raise ServiceError(_l("Say why the application is re-scored."), field="reason")
    rule_set = rule_set_of(application)
    terms = terms_for_new(rule_set)
    now = utcnow()
    done = []
    result = score(rule_set, for_engine(rule_set, application.answers), not_applicable=application.not_applicable,
                   threshold=terms.threshold, industry=application.industry_code)
    done.append(_replace(application, None, application.self_result, freeze(result, terms), reason, admin, now))
    application.self_result = freeze(result, terms)
    application.self_score_total, application.self_score_passed = result.total, result.passed
    application.threshold, application.threshold_source = terms.threshold, terms.source
    for sheet in sheets:
        if sheet.result is None or sheet.assignment.application_id != application.id:
            continue
        sheet_result = score(rule_set, for_engine(rule_set, sheet.answers),
                             not_applicable=confirmed_declarations(sheet), threshold=terms.threshold,
                             industry=application.industry_code)
        done.append(_replace(application, sheet, sheet.result, freeze(sheet_result, terms), reason, admin, now))
        sheet.result = freeze(sheet_result, terms)
        sheet.total, sheet.passed = sheet_result.total, sheet_result.passed
    record_event("application.rescored", actor=admin, obj=application, details={
        "reason": reason, "terms": terms.to_dict(),
        "results": [{"score_sheet_id": r.score_sheet_id,
                     "from": {"total": r.previous.get("total"), "passed": r.previous.get("passed"),
                              "threshold": r.previous.get("threshold")},
                     "to": {"total": r.current["total"], "passed": r.current["passed"],
                            "threshold": r.current["threshold"]}} for r in done]})
    return done


def _replace(application, sheet, previous: dict | None, current: dict, reason: str, admin, now) -> Rescore:
    rescore = Rescore(application_id=application.id, score_sheet_id=sheet.id if sheet is not None else None,
                      previous=previous or {}, current=current, reason=reason, rescored_by_id=admin.id,
                      rescored_at=now)
    db.session.add(rescore)
    return rescore


def rescores_of(application) -> list[Rescore]:
    """The application's re-scores, latest first."""
    return db.session.execute(
        select(Rescore).where(Rescore.application_id == application.id)
        .order_by(Rescore.rescored_at.desc(), Rescore.id.desc())).scalars().all()
