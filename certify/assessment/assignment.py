"""Assigning assessors to applications, and the assessors' answers.

The checks that refuse an assessor (not an active assessor of an active agency, working for the
applicant, a declared conflict within three years, already on the application, the yearly cap
reached), ranked suggestions, bulk assignment with its preview, accepting and declining, and the
department taking an assignment back. The application's status changes only through
``workflow.transition``:

- ``assign_assessors``: submitted -> assigned (a lead is required, a second is optional);
- the lead accepts: assigned -> under_assessment; the lead declines: assigned -> submitted, and
  a second assessor's assignment is cancelled with it (the department assigns a new team: a
  second assessor cannot carry an evaluation alone, and the new lead may be from elsewhere);
- ``withdraw_assignment``: assigned or under_assessment -> submitted.
"""

from dataclasses import dataclass, field
from datetime import date, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from certify.applications.models import Application
from certify.assessment import mails
from certify.assessment.agencies import (
    CapHolder,
    active_assessors,
    cap_holders,
    cap_reached,
    evaluations_by_holder,
    open_loads,
    yearly_cap,
)
from certify.assessment.conflicts import conflicts_with
from certify.assessment.models import (
    ACTIVE_ASSIGNMENT,
    RELATION_LABELS,
    AssessorProfile,
    AssessorRole,
    Assignment,
    AssignmentStatus,
    ConflictDeclaration,
    ScoreSheet,
)
from certify.assessment.permissions import can_respond_to_assignment
from certify.assessment.rounds import current_assignments, current_round
from certify.assessment.scoring import report_if_complete
from certify.assessment.util import clean, require_admin
from certify.audit.services import record_event
from certify.auth.models import Role, User
from certify.exceptions import PermissionDenied, ServiceError
from certify.extensions import db
from certify.i18n import date_text
from certify.organisations.models import OrganisationKind
from certify.tiers.permissions import CITY_RECOMMENDATION_FIRST, awaiting_city_recommendation
from certify.timeutil import local_today, utcnow
from certify.workflow import ASSESSMENT_UNDER_WAY, Action, Status, transition

# ---- the checks ------------------------------------------------------------------------------------


@dataclass
class _Standing:
    """What the refusals for one application need to know about a group of assessors, read
    once for all of them (the assignment page weighs every assessor of the province)."""

    conflicts: dict[int, list[ConflictDeclaration]]
    assigned: set[int]  # assessors on the application's current round
    holders: dict[int, CapHolder]  # agency id -> whose cap it counts against
    counted: set[str]  # cap holders already counting the application this year
    evaluations: dict[str, int]  # cap holder key -> evaluations this year


def _standing(assessors, application: Application, on: date) -> _Standing:
    holders = cap_holders()
    agency_ids = {assessor.organisation_id for assessor in assessors}
    involved = {holders[i].key: holders[i] for i in agency_ids if i in holders}
    counting = set(db.session.execute(
        select(Assignment.agency_id).where(
            Assignment.application_id == application.id, Assignment.status.in_(ACTIVE_ASSIGNMENT),
            Assignment.assigned_on >= date(on.year, 1, 1)).distinct()).scalars())
    return _Standing(conflicts=conflicts_with((assessor.id for assessor in assessors), application, on),
                     assigned={a.assessor_id for a in current_assignments(application)},
                     holders=holders, counted={holders[i].key for i in counting if i in holders},
                     evaluations=evaluations_by_holder(involved.values(), on.year))


def refusals(assessor: User, application: Application, *, on: date | None = None,
             planned: list[User] = (), check_cap: bool = True, standing: _Standing | None = None) -> list:
    """Why ``assessor`` cannot be assigned to ``application`` (empty when they can), as
    messages for the administrator. ``planned`` are the other assessors being assigned in the
    same step (their agencies count towards the cap once); ``check_cap=False`` leaves the yearly
    cap to the caller (the bulk preview reckons it over the whole batch)."""
    on = on or local_today()
    reasons = []
    if assessor.role != Role.ASSESSOR or not assessor.is_active:
        return [_l("%(name)s is not an active assessor.", name=assessor.name)]
    standing = standing or _standing([assessor], application, on)
    agency = assessor.organisation
    if agency.kind != OrganisationKind.AGENCY or not agency.is_active:
        reasons.append(_l("%(name)s does not belong to an active assessment agency.",
                          name=assessor.name))
    applicant = application.organisation
    if agency.id == applicant.id or (agency.credit_code and agency.credit_code == applicant.credit_code):
        reasons.append(_l("%(name)s works for the applicant itself.", name=assessor.name))
    for declaration in standing.conflicts.get(assessor.id, []):
        period = date_text(declaration.starts_on) + " – " + (
            date_text(declaration.ends_on) if declaration.ends_on else str(_l("ongoing")))
        reasons.append(_l("%(name)s declared a conflict with the applicant within the last three "
                          "years: %(relation)s (%(period)s).", name=assessor.name,
                          relation=RELATION_LABELS[declaration.relation], period=period))
    if assessor.id in standing.assigned:
        reasons.append(_l("%(name)s is already assigned to this application.", name=assessor.name))
    holder = standing.holders.get(agency.id)
    if check_cap and holder is not None and holder.key not in standing.counted and not any(
            standing.holders.get(other.organisation_id) == holder for other in planned):
        if standing.evaluations.get(holder.key, 0) >= yearly_cap():
            reasons.append(cap_reached(holder, agency, on.year))
    return reasons


# ---- assigning -------------------------------------------------------------------------------------


_SAME_PERSON = _l("The lead and the second assessor must be two different people.")


class AssignmentRefused(ServiceError):
    """An assignment that the checks refuse; ``reasons`` lists every reason."""

    def __init__(self, reasons: list, field: str | None = None):
        super().__init__(reasons[0], field=field)
        self.reasons = reasons


def _due_on(due_on: date | None, today: date) -> date:
    if due_on is None:
        return today + timedelta(days=int(current_app.config["CERTIFY_ASSESSMENT_DUE_DAYS"]))
    if due_on <= today:
        raise ServiceError(_l("The due date must be in the future."), field="due_on")
    return due_on


def _new_assignment(admin, application, assessor, role, due_on, today) -> Assignment:
    assignment = Assignment(
        application=application, assessor=assessor, agency_id=assessor.organisation_id,
        role=role, submission_number=current_round(application),
        status=AssignmentStatus.PENDING, assigned_by_id=admin.id,
        assigned_at=utcnow(), assigned_on=today, due_on=due_on,
    )
    db.session.add(assignment)
    record_event("assignment.created", actor=admin, obj=assignment, details={
        "application_id": application.id, "assessor_id": assessor.id,
        "agency_id": assessor.organisation_id, "role": role.value, "due_on": due_on.isoformat()})
    mails.tell_assigned(assignment)
    return assignment


def assign_assessors(admin, application: Application, *, lead: User, second: User | None = None,
                     due_on: date | None = None) -> list[Assignment]:
    """Assign a lead assessor and optionally a second to a submitted application.

    Refused with every reason (``AssignmentRefused``) when an assessor's organisation is the
    applicant, a declared conflict lies within three years, the agency has reached its yearly
    cap, or the assessor is not an active assessor; lead and second must be two people (they
    may be from the same agency: the agency does the evaluation, its people check each other).
    """
    require_admin(admin)
    if awaiting_city_recommendation(application):
        raise ServiceError(CITY_RECOMMENDATION_FIRST)
    today = local_today()
    due_on = _due_on(due_on, today)
    if second is not None and second.id == lead.id:
        raise ServiceError(_SAME_PERSON, field="second_id")
    reasons = refusals(lead, application, on=today)
    if reasons:
        raise AssignmentRefused(reasons, field="lead_id")
    if second is not None:
        reasons = refusals(second, application, on=today, planned=[lead])
        if reasons:
            raise AssignmentRefused(reasons, field="second_id")
    transition(application, Action.ASSIGN, admin, details={
        "lead_id": lead.id, "second_id": second.id if second else None, "due_on": due_on.isoformat()})
    assignments = [_new_assignment(admin, application, lead, AssessorRole.LEAD, due_on, today)]
    if second is not None:
        assignments.append(_new_assignment(admin, application, second, AssessorRole.SECOND, due_on, today))
    return assignments


def add_second_assessor(admin, application: Application, assessor: User, *,
                        due_on: date | None = None) -> Assignment:
    """Add a second assessor to an application whose lead is assigned and not yet reported
    (e.g. after the first second assessor declined)."""
    require_admin(admin)
    if application.status not in ASSESSMENT_UNDER_WAY:
        raise ServiceError(_l("A second assessor can be added only while the assessment is under way."))
    if any(a.role == AssessorRole.SECOND for a in current_assignments(application)):
        raise ServiceError(_l("This application already has a second assessor."), field="second_id")
    today = local_today()
    due_on = _due_on(due_on, today)
    reasons = refusals(assessor, application, on=today)
    if reasons:
        raise AssignmentRefused(reasons, field="second_id")
    return _new_assignment(admin, application, assessor, AssessorRole.SECOND, due_on, today)


# ---- suggestions and bulk assignment --------------------------------------------------------------


@dataclass
class Suggestion:
    """An assessor considered for an application, with why they rank where they do."""

    assessor: User
    profile: AssessorProfile
    kind_match: bool
    industry_match: bool
    open_assignments: int
    same_city: bool
    reasons: list = field(default_factory=list)
    # Whose yearly cap the assessor's agency counts against, and its evaluations this year.
    holder: CapHolder | None = None
    evaluations: int = 0

    @property
    def fit(self) -> int:
        return int(self.kind_match) + int(self.industry_match)

    @property
    def eligible(self) -> bool:
        return not self.reasons


def suggestions(application: Application) -> list[Suggestion]:
    """Every active assessor, ranked for ``application``.

    Eligible assessors first; then expertise fit (the application's kind, and its industry:
    an assessor's GB/T 4754 code matches when the application's code starts with it); then the
    fewest open assignments, so that work is spread; then an assessor based in the applicant's
    city, which makes the on-site visit easier. Region comes last on purpose: a local assessor is
    more likely to have ties with the applicant, and competence and workload matter more.
    Assessors who cannot be assigned are listed at the end with the reasons.
    """
    today = local_today()
    loads = open_loads()
    profiles = {p.user_id: p for p in db.session.execute(select(AssessorProfile)).scalars()}
    industry = application.industry_code or ""
    city = application.organisation.city_code
    ranked = []
    assessors = active_assessors()
    standing = _standing(assessors, application, today)
    for assessor in assessors:
        profile = profiles.get(assessor.id) or AssessorProfile(user_id=assessor.id, kinds=[],
                                                                industries=[], city_code=None)
        ranked.append(Suggestion(
            assessor=assessor, profile=profile,
            kind_match=application.kind in (profile.kinds or []),
            industry_match=bool(industry) and any(industry.startswith(code) for code in profile.industries or []),
            open_assignments=loads.get(assessor.id, 0),
            same_city=bool(city) and profile.city_code == city,
            reasons=refusals(assessor, application, on=today, standing=standing),
            holder=(holder := standing.holders.get(assessor.organisation_id)),
            evaluations=standing.evaluations.get(holder.key, 0) if holder else 0,
        ))
    ranked.sort(key=lambda s: (not s.eligible, -s.fit, s.open_assignments, not s.same_city,
                               s.assessor.name))
    return ranked


@dataclass
class BulkLine:
    application: Application
    reasons: list

    @property
    def ok(self) -> bool:
        return not self.reasons


def preview_bulk_assignment(applications: list[Application], *, lead: User,
                            second: User | None = None) -> list[BulkLine]:
    """What assigning ``lead`` (and ``second``) to each application would do, without saving
    anything: per application either no reasons (it would be assigned) or every refusal. The
    yearly cap is reckoned over the whole batch, in the order given."""
    today = local_today()
    cap = yearly_cap()
    holders = cap_holders()
    team = [lead] + ([second] if second is not None else [])
    counts = evaluations_by_holder({holders[p.organisation_id] for p in team
                                    if p.organisation_id in holders}, today.year)
    planned = {}  # cap holder key -> evaluations added earlier in this batch
    lines = []
    for application in applications:
        reasons = []
        if application.status != Status.SUBMITTED:
            reasons.append(_l("The application is not waiting for assignment."))
        elif awaiting_city_recommendation(application):
            reasons.append(CITY_RECOMMENDATION_FIRST)
        if second is not None and second.id == lead.id:
            reasons.append(_SAME_PERSON)
        for n, person in enumerate(team):
            reasons += refusals(person, application, on=today, planned=team[:n], check_cap=False)
        charged = {holders[p.organisation_id]: p.organisation for p in team if p.organisation_id in holders}
        for holder, agency in charged.items():
            if counts.get(holder.key, 0) + planned.get(holder.key, 0) >= cap:
                reasons.append(cap_reached(holder, agency, today.year))
        if not reasons:
            for holder in charged:
                planned[holder.key] = planned.get(holder.key, 0) + 1
        lines.append(BulkLine(application, reasons))
    return lines


def bulk_assign(admin, applications: list[Application], *, lead: User, second: User | None = None,
                due_on: date | None = None) -> tuple[list[Application], list[BulkLine]]:
    """Assign the team to every application the preview finds acceptable (checked again now);
    the others are left untouched. Returns the applications assigned and the refused lines."""
    require_admin(admin)
    lines = preview_bulk_assignment(applications, lead=lead, second=second)
    assigned = []
    for line in lines:
        if line.ok:
            assign_assessors(admin, line.application, lead=lead, second=second, due_on=due_on)
            assigned.append(line.application)
    return assigned, [line for line in lines if not line.ok]


# ---- the assessor's response -------------------------------------------------------------------


def accept_assignment(assessor, assignment: Assignment) -> ScoreSheet:
    """The assessor accepts; their score sheet opens. The lead's acceptance starts the
    assessment of the application."""
    if not can_respond_to_assignment(assessor, assignment):
        raise PermissionDenied(_l("This assignment is not waiting for your answer."))
    assignment.status = AssignmentStatus.ACCEPTED
    assignment.responded_at = utcnow()
    sheet = ScoreSheet(assignment=assignment, answers={}, answer_texts={}, notes={}, not_applicable={})
    db.session.add(sheet)
    record_event("assignment.accepted", actor=assessor, obj=assignment,
                 details={"application_id": assignment.application_id, "role": assignment.role.value})
    mails.tell_response(assignment)
    if assignment.role == AssessorRole.LEAD:
        transition(assignment.application, Action.ACCEPT, assessor)
    return sheet


def decline_assignment(assessor, assignment: Assignment, *, reason: str) -> None:
    """The assessor declines, with a reason. A lead's decline sends the application back to
    the department for assignment and cancels the second assessor's assignment."""
    if not can_respond_to_assignment(assessor, assignment):
        raise PermissionDenied(_l("This assignment is not waiting for your answer."))
    reason = clean(reason)
    if not reason:
        raise ServiceError(_l("Say why you decline the assignment."), field="reason")
    now = utcnow()
    assignment.status = AssignmentStatus.DECLINED
    assignment.decline_reason = reason
    assignment.responded_at = assignment.ended_at = now
    record_event("assignment.declined", actor=assessor, obj=assignment, details={
        "application_id": assignment.application_id, "role": assignment.role.value, "reason": reason})
    mails.tell_response(assignment)
    application = assignment.application
    if assignment.role == AssessorRole.LEAD:
        for other in current_assignments(application):
            other.status = AssignmentStatus.CANCELLED
            other.ended_at = now
            record_event("assignment.cancelled", actor=assessor, obj=other, details={
                "application_id": application.id, "because": "lead_declined"})
            mails.tell_cancelled(other)
        transition(application, Action.DECLINE, assessor, reason=reason)
    else:
        report_if_complete(application, assessor)


def withdraw_assignment(admin, application: Application, *, reason: str) -> list[Assignment]:
    """The department takes a stalled assessment back: every standing assignment of the round
    ends as withdrawn, with the reason (score sheets stay with them as history and are never
    reused: a new assignment opens a new sheet), and the application returns to the assignment
    queue (assigned or under_assessment -> submitted). The assessors hear why; the applicant
    hears that new assessors will be assigned."""
    require_admin(admin)
    reason = clean(reason)
    if not reason:
        raise ServiceError(_l("Say why the assignment is withdrawn."), field="reason")
    withdrawn = current_assignments(application)
    transition(application, Action.WITHDRAW_ASSIGNMENT, admin, reason=reason,
               details={"assignment_ids": [a.id for a in withdrawn]})
    now = utcnow()
    for assignment in withdrawn:
        assignment.status = AssignmentStatus.WITHDRAWN
        assignment.withdrawal_reason = reason
        assignment.withdrawn_by_id = admin.id
        assignment.ended_at = now
        record_event("assignment.withdrawn", actor=admin, obj=assignment, details={
            "application_id": application.id, "assessor_id": assignment.assessor_id,
            "role": assignment.role.value, "reason": reason,
            "sheet_id": assignment.sheet.id if assignment.sheet is not None else None})
        mails.tell_withdrawn(assignment)
    return withdrawn
