"""Conflicts of interest: the relations assessors declare with organisations, and which of them
stand in the way of assessing an application (any within the three years before).
"""

from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from certify.applications.models import Application
from certify.assessment.models import ConflictDeclaration, ConflictRelation
from certify.assessment.permissions import can_declare_conflicts
from certify.assessment.util import clean, require_admin
from certify.audit.services import record_event
from certify.auth.models import Role, User
from certify.exceptions import PermissionDenied, ServiceError
from certify.extensions import db
from certify.organisations.credit_code import CreditCodeError, normalise_credit_code
from certify.organisations.services import find_by_credit_code
from certify.timeutil import utcnow

CONFLICT_YEARS = 3


def declare_conflict(actor, assessor: User, *, credit_code: str, organisation_name: str = "",
                     relation: ConflictRelation, starts_on: date, ends_on: date | None = None,
                     note: str = "") -> ConflictDeclaration:
    """Record an assessor's relation with an organisation. Assessors declare their own;
    administrators may record one for any assessor."""
    if not can_declare_conflicts(actor, assessor) or assessor.role != Role.ASSESSOR:
        raise PermissionDenied(_l("You cannot declare conflicts for this person."))
    try:
        code = normalise_credit_code(credit_code or "")
    except CreditCodeError as exc:
        raise ServiceError(exc.message, field="credit_code") from exc
    if starts_on is None:
        raise ServiceError(_l("Enter when the relation began."), field="starts_on")
    if ends_on is not None and ends_on < starts_on:
        raise ServiceError(_l("The relation cannot end before it began."), field="ends_on")
    registered = find_by_credit_code(code)
    name = clean(organisation_name, 200) or (registered.name if registered else "")
    if not name:
        raise ServiceError(_l("Enter the organisation's name."), field="organisation_name")
    declaration = ConflictDeclaration(
        assessor=assessor, credit_code=code, organisation_name=name,
        relation=ConflictRelation(relation), starts_on=starts_on, ends_on=ends_on,
        note=clean(note, 500), declared_by_id=actor.id, declared_at=utcnow(),
    )
    db.session.add(declaration)
    record_event("conflict.declared", actor=actor, obj=declaration, details={
        "assessor_id": assessor.id, "credit_code": code, "organisation_name": name,
        "relation": declaration.relation.value, "starts_on": starts_on.isoformat(),
        "ends_on": ends_on.isoformat() if ends_on else None})
    return declaration


def withdraw_conflict(admin, declaration: ConflictDeclaration) -> None:
    """Withdraw a declaration recorded in error. Only administrators may: an assessor must not
    be able to clear their own way to an assignment."""
    require_admin(admin)
    if declaration.withdrawn_at is not None:
        return
    declaration.withdrawn_at = utcnow()
    declaration.withdrawn_by_id = admin.id
    record_event("conflict.withdrawn", actor=admin, obj=declaration,
                 details={"assessor_id": declaration.assessor_id,
                          "credit_code": declaration.credit_code})


def conflicts_of(assessor: User) -> list[ConflictDeclaration]:
    return db.session.execute(
        select(ConflictDeclaration).where(ConflictDeclaration.assessor_id == assessor.id)
        .order_by(ConflictDeclaration.withdrawn_at.is_not(None), ConflictDeclaration.starts_on.desc())
    ).scalars().all()


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def conflicts_with(assessor_ids, application: Application, on: date) -> dict[int, list[ConflictDeclaration]]:
    """Each assessor's standing declarations about the applicant that lie within the three years
    before ``on`` (current, planned, or ended less than three years ago); one query, assessors
    with none left out."""
    code = application.organisation.credit_code
    ids = list(assessor_ids)
    if not code or not ids:
        return {}
    since = _years_before(on, CONFLICT_YEARS)
    found: dict[int, list[ConflictDeclaration]] = {}
    for declaration in db.session.execute(
        select(ConflictDeclaration).where(
            ConflictDeclaration.assessor_id.in_(ids),
            ConflictDeclaration.credit_code == code,
            ConflictDeclaration.withdrawn_at.is_(None),
            (ConflictDeclaration.ends_on.is_(None)) | (ConflictDeclaration.ends_on >= since),
        ).order_by(ConflictDeclaration.starts_on, ConflictDeclaration.id)
    ).scalars():
        found.setdefault(declaration.assessor_id, []).append(declaration)
    return found
