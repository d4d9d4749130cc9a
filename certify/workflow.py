"""The application workflow: every state, every action, and who may take it, in one table.

Views never assign ``application.status``; service functions call :func:`transition`, which checks
the table, changes the status, writes the audit event and queues the notification, all inside
the caller's transaction.

    draft --submit--> submitted --assign--> assigned --accept--> under_assessment --report--> assessed
    submitted|assessed --return--> draft            assigned --decline--> submitted
    (a submitted application may also be returned by its city bureau, in the pre-review)
    assigned|under_assessment --withdraw_assignment--> submitted (the department takes it back)
    assessed --approve--> approved --open_notice--> in_notice --announce--> listed
    assessed --reject--> rejected                   in_notice --uphold_objection--> assessed
    listed --revoke--> revoked                      listed --expire--> expired (the system)
    draft|submitted --withdraw--> withdrawn
"""

import enum
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from certify.audit.services import pending_event, record_event, record_events
from certify.auth.models import Role
from certify.exceptions import ServiceError
from certify.extensions import db
from certify.signals import application_transitioned, applications_transitioned
from certify.timeutil import utcnow


class Status(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    ASSIGNED = "assigned"
    UNDER_ASSESSMENT = "under_assessment"
    ASSESSED = "assessed"
    APPROVED = "approved"
    REJECTED = "rejected"
    IN_NOTICE = "in_notice"
    LISTED = "listed"
    REVOKED = "revoked"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"


# The applicant may still change answers and evidence.
EDITABLE = frozenset({Status.DRAFT})
# Submitted and not yet decided: with the department or its assessors.
AWAITING_DECISION = frozenset({Status.SUBMITTED, Status.ASSIGNED, Status.UNDER_ASSESSMENT, Status.ASSESSED})
# Assessors are assigned and have not reported yet.
ASSESSMENT_UNDER_WAY = frozenset({Status.ASSIGNED, Status.UNDER_ASSESSMENT})
# The department has approved or rejected, whatever came of it since.
DECIDED = frozenset({Status.APPROVED, Status.REJECTED, Status.IN_NOTICE, Status.LISTED,
                     Status.REVOKED, Status.EXPIRED})
# Approved, and the approval still stands: waiting for the notice, under notice, or listed.
APPROVED_STANDING = frozenset({Status.APPROVED, Status.IN_NOTICE, Status.LISTED})
# Announced on a list (公告): listed, or listed and since revoked or expired.
ANNOUNCED = frozenset({Status.LISTED, Status.REVOKED, Status.EXPIRED})
# Listed, or listed until the validity ran out: a re-evaluation may renew it.
RENEWABLE = frozenset({Status.LISTED, Status.EXPIRED})
# The application's life is over: nothing leads out of these.
FINAL = frozenset({Status.REJECTED, Status.REVOKED, Status.EXPIRED, Status.WITHDRAWN})


class Action(enum.StrEnum):
    SUBMIT = "submit"
    WITHDRAW = "withdraw"
    ASSIGN = "assign"
    ACCEPT = "accept"
    DECLINE = "decline"
    WITHDRAW_ASSIGNMENT = "withdraw_assignment"
    REPORT = "report"
    RETURN = "return"
    APPROVE = "approve"
    REJECT = "reject"
    OPEN_NOTICE = "open_notice"
    UPHOLD_OBJECTION = "uphold_objection"
    ANNOUNCE = "announce"
    REVOKE = "revoke"
    EXPIRE = "expire"


# Who acts: a user's role, or the system itself (scheduled jobs).
SYSTEM = "system"


@dataclass(frozen=True)
class Transition:
    source: Status
    action: Action
    roles: frozenset
    target: Status


def _t(source, action, roles, target) -> Transition:
    return Transition(source, action, frozenset(roles), target)


TRANSITIONS: tuple[Transition, ...] = (
    _t(Status.DRAFT, Action.SUBMIT, {Role.APPLICANT}, Status.SUBMITTED),
    _t(Status.DRAFT, Action.WITHDRAW, {Role.APPLICANT}, Status.WITHDRAWN),
    _t(Status.SUBMITTED, Action.WITHDRAW, {Role.APPLICANT}, Status.WITHDRAWN),
    _t(Status.SUBMITTED, Action.ASSIGN, {Role.ADMIN}, Status.ASSIGNED),
    # The city bureau returns what it does not recommend (its pre-review, ``certify.tiers``).
    _t(Status.SUBMITTED, Action.RETURN, {Role.ADMIN, Role.CITY}, Status.DRAFT),
    _t(Status.ASSIGNED, Action.ACCEPT, {Role.ASSESSOR}, Status.UNDER_ASSESSMENT),
    _t(Status.ASSIGNED, Action.DECLINE, {Role.ASSESSOR}, Status.SUBMITTED),
    _t(Status.ASSIGNED, Action.WITHDRAW_ASSIGNMENT, {Role.ADMIN}, Status.SUBMITTED),
    _t(Status.UNDER_ASSESSMENT, Action.WITHDRAW_ASSIGNMENT, {Role.ADMIN}, Status.SUBMITTED),
    _t(Status.UNDER_ASSESSMENT, Action.REPORT, {Role.ASSESSOR}, Status.ASSESSED),
    _t(Status.ASSESSED, Action.RETURN, {Role.ADMIN}, Status.DRAFT),
    _t(Status.ASSESSED, Action.APPROVE, {Role.ADMIN}, Status.APPROVED),
    _t(Status.ASSESSED, Action.REJECT, {Role.ADMIN}, Status.REJECTED),
    _t(Status.APPROVED, Action.OPEN_NOTICE, {Role.ADMIN}, Status.IN_NOTICE),
    _t(Status.IN_NOTICE, Action.UPHOLD_OBJECTION, {Role.ADMIN}, Status.ASSESSED),
    _t(Status.IN_NOTICE, Action.ANNOUNCE, {Role.ADMIN}, Status.LISTED),
    _t(Status.LISTED, Action.REVOKE, {Role.ADMIN}, Status.REVOKED),
    _t(Status.LISTED, Action.EXPIRE, {SYSTEM}, Status.EXPIRED),
)
_BY_KEY = {(t.source, t.action): t for t in TRANSITIONS}

STATUS_LABELS = {
    Status.DRAFT: _l("Draft"),
    Status.SUBMITTED: _l("Submitted"),
    Status.ASSIGNED: _l("Assessor assigned"),
    Status.UNDER_ASSESSMENT: _l("Under assessment"),
    Status.ASSESSED: _l("Assessed"),
    Status.APPROVED: _l("Approved"),
    Status.REJECTED: _l("Rejected"),
    Status.IN_NOTICE: _l("Under public notice"),
    Status.LISTED: _l("Listed"),
    Status.REVOKED: _l("Revoked"),
    Status.EXPIRED: _l("Expired"),
    Status.WITHDRAWN: _l("Withdrawn"),
}

# What happens next, as the applicant reads it.
NEXT_STEP_LABELS = {
    Status.DRAFT: _l("Complete the self-assessment and submit"),
    Status.SUBMITTED: _l("The department assigns assessors"),
    Status.ASSIGNED: _l("The assessors confirm the assignment"),
    Status.UNDER_ASSESSMENT: _l("The assessors evaluate, including an on-site visit"),
    Status.ASSESSED: _l("The department decides"),
    Status.APPROVED: _l("Waiting for the public notice"),
    Status.IN_NOTICE: _l("Public notice in progress"),
    Status.LISTED: _l("Listed: download the certificate"),
    Status.REJECTED: _l("None"),
    Status.REVOKED: _l("None"),
    Status.EXPIRED: _l("Apply for re-evaluation"),
    Status.WITHDRAWN: _l("None"),
}

ACTION_LABELS = {
    Action.SUBMIT: _l("Submit"),
    Action.WITHDRAW: _l("Withdraw"),
    Action.ASSIGN: _l("Assign assessors"),
    Action.ACCEPT: _l("Accept the assignment"),
    Action.DECLINE: _l("Decline the assignment"),
    Action.WITHDRAW_ASSIGNMENT: _l("Withdraw the assignment"),
    Action.REPORT: _l("Submit the assessment"),
    Action.RETURN: _l("Return to the applicant"),
    Action.APPROVE: _l("Approve"),
    Action.REJECT: _l("Reject"),
    Action.OPEN_NOTICE: _l("Open the public notice"),
    Action.UPHOLD_OBJECTION: _l("Uphold an objection"),
    Action.ANNOUNCE: _l("Announce"),
    Action.REVOKE: _l("Revoke"),
    Action.EXPIRE: _l("Expire"),
}


class TransitionNotAllowed(ServiceError):
    """The action is not allowed from the application's status, or not for this role."""


def _role_of(actor) -> str:
    return SYSTEM if actor is None else actor.role


def find(status: Status, action: Action) -> Transition | None:
    return _BY_KEY.get((Status(status), Action(action)))


def available_actions(application, user) -> list[Action]:
    """The actions ``user``'s role may take on ``application`` now (object permissions aside)."""
    role = _role_of(user)
    return [t.action for t in TRANSITIONS if t.source == application.status and role in t.roles]


def check(application, action: Action, actor) -> Transition:
    """The transition for ``action``, or ``TransitionNotAllowed`` saying why not."""
    transition = find(application.status, action)
    if transition is None:
        raise TransitionNotAllowed(
            _l("“%(action)s” is not possible while the application is “%(status)s”.",
               action=ACTION_LABELS[Action(action)], status=STATUS_LABELS[Status(application.status)])
        )
    if _role_of(actor) not in transition.roles:
        raise TransitionNotAllowed(
            _l("Your role cannot “%(action)s” an application.", action=ACTION_LABELS[Action(action)])
        )
    return transition


def transition(application, action: Action, actor, *, reason: str | None = None,
               details: dict | None = None, told_by_caller: bool = False) -> Transition:
    """Move ``application`` along the table and audit it, then announce the move
    (``signals.application_transitioned``: the notifications listen), in the current transaction.
    ``told_by_caller``: the caller tells the people concerned itself, in its own words (a pilot's
    listing replaced by its recognition is news of the recognition)."""
    step = check(application, action, actor)
    application.status = step.target
    record_event(f"application.{step.action.value}", actor=actor, obj=application,
                 details=_event_details(step, reason, details))
    application_transitioned.send(application, step=step, actor=actor, reason=reason, told_by_caller=told_by_caller)
    return step


def transition_all(applications: list, action: Action, actor, *, details: dict | None = None) -> list[Transition]:
    """``transition`` for each of ``applications`` (a batch announced lists thousands in one
    transaction): the same checks, statuses and audit events in the same order, but the statuses
    written in one flush, the events appended in one bulk insert, and one signal for them all
    (``signals.applications_transitioned``)."""
    steps = [check(application, action, actor) for application in applications]
    for application, step in zip(applications, steps, strict=True):
        application.status = step.target
    db.session.flush()
    recorded = utcnow()
    record_events([pending_event(f"application.{step.action.value}", actor=actor, obj=application,
                                 details=_event_details(step, None, details), created_at=recorded)
                   for application, step in zip(applications, steps, strict=True)])
    applications_transitioned.send(applications, steps=steps, actor=actor)
    return steps


def _event_details(step: Transition, reason: str | None, details: dict | None) -> dict:
    return {"from": step.source.value, "to": step.target.value, "reason": reason or ""} | (details or {})
