"""Telling people what happened to an application: one e-mail per person concerned, in their
own language, queued in the same transaction as the change. The workflow does not call this
module: it announces each move (``signals.application_transitioned``, and
``signals.applications_transitioned`` for a batch announced) and ``init_app`` connects the
receivers here to them."""

from collections import defaultdict

from sqlalchemy import select

from certify.auth.models import Role, User
from certify.core.urls import absolute_url
from certify.extensions import db
from certify.mail.services import OutgoingMail, send_mails
from certify.signals import application_transitioned, applications_transitioned, connect_once
from certify.workflow import Action, Transition

# Who hears of each action: the applicant's users, the administrators, or both.
APPLICANT_ACTIONS = {Action.RETURN, Action.APPROVE, Action.REJECT, Action.OPEN_NOTICE,
                     Action.ANNOUNCE, Action.REVOKE, Action.EXPIRE, Action.UPHOLD_OBJECTION,
                     Action.SUBMIT, Action.WITHDRAW, Action.WITHDRAW_ASSIGNMENT}
# (An assessor's acceptance or decline is told to the administrator who assigned them, by the
# assessment's own mails.)
ADMIN_ACTIONS = {Action.SUBMIT, Action.WITHDRAW, Action.REPORT}
# The template of each action that has its own; the others say the new status.
TEMPLATES = {Action.RETURN: "questions_returned", Action.WITHDRAW_ASSIGNMENT: "assessors_changed"}


def init_app(app) -> None:
    connect_once(application_transitioned, notify_transition)
    connect_once(applications_transitioned, notify_transitions)


class _Audience:
    """The active users who can be told of moves: each organisation's with a password (read for
    all the organisations concerned at once) and the administrators (read once, when needed)."""

    def __init__(self, moves: list[tuple[object, Transition]]):
        organisations = {application.organisation_id for application, step in moves
                         if step.action in APPLICANT_ACTIONS}
        self.members = defaultdict(list)
        if organisations:
            for user in _active(select(User).where(User.organisation_id.in_(organisations),
                                                   User.password_hash.is_not(None)).order_by(User.id)):
                self.members[user.organisation_id].append(user)
        needs_admins = any(step.action in ADMIN_ACTIONS for _, step in moves)
        self.admins = _active(select(User).where(User.role == Role.ADMIN).order_by(User.id)) if needs_admins else []

    def of(self, application, step: Transition) -> list[User]:
        people = []
        if step.action in APPLICANT_ACTIONS:
            people += self.members[application.organisation_id]
        if step.action in ADMIN_ACTIONS:
            people += self.admins
        return people


def _active(query):
    return db.session.execute(query.where(User.is_active.is_(True))).scalars().all()


def recipients(application, step: Transition) -> list[User]:
    """Everyone concerned by ``step`` of ``application`` (the person who took it included)."""
    return _Audience([(application, step)]).of(application, step)


def notify_transition(application, step: Transition, actor, *, reason: str | None = None,
                      told_by_caller: bool = False) -> None:
    """Mail everyone concerned by ``step`` except the person who took it (unless the area that
    made the move tells them itself)."""
    if not told_by_caller:
        _notify([(application, step)], actor, reason)


def notify_transitions(applications: list, *, steps: list[Transition], actor) -> None:
    """``notify_transition`` for each of ``applications`` moved together: the recipients read in
    one query and the messages stored in one flush."""
    _notify(list(zip(applications, steps, strict=True)), actor, None)


def _notify(moves: list[tuple[object, Transition]], actor, reason: str | None) -> None:
    audience = _Audience(moves)
    mails = []
    for application, step in moves:
        link = absolute_url("applications.show", application_id=application.id)
        template = TEMPLATES.get(step.action, "application_status")
        mails += [OutgoingMail(person.email, template, person.preferred_language,
                               {"user": person, "application": application, "step": step,
                                "reason": reason, "link": link})
                  for person in audience.of(application, step) if actor is None or person.id != actor.id]
    send_mails(mails)
