"""Telling people what happened to an application: one e-mail per person concerned, in their
own language, queued in the same transaction as the change. The workflow does not call this
module: it announces each move (``signals.application_transitioned``) and ``init_app`` connects
:func:`notify_transition` to it."""

from sqlalchemy import select

from certify.auth.models import Role, User
from certify.core.urls import absolute_url
from certify.extensions import db
from certify.mail.services import send_mail
from certify.signals import application_transitioned, connect_once
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


def _active(query):
    return db.session.execute(query.where(User.is_active.is_(True))).scalars().all()


def recipients(application, step: Transition) -> list[User]:
    people = []
    if step.action in APPLICANT_ACTIONS:
        people += _active(select(User).where(User.organisation_id == application.organisation_id,
                                             User.password_hash.is_not(None)))
    if step.action in ADMIN_ACTIONS:
        people += _active(select(User).where(User.role == Role.ADMIN))
    return people


def notify_transition(application, step: Transition, actor, *, reason: str | None = None) -> None:
    """Mail everyone concerned by ``step`` except the person who took it."""
    link = absolute_url("applications.show", application_id=application.id)
    for person in recipients(application, step):
        if actor is not None and person.id == actor.id:
            continue
        send_mail(person.email, TEMPLATES.get(step.action, "application_status"),
                  language=person.preferred_language,
                  user=person, application=application, step=step, reason=reason, link=link)
