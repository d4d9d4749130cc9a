"""Assessment use cases: agencies and assessors, conflict declarations, assignment (with its
checks, suggestions and bulk preview), accepting and declining, scoring and submission.

Each public function is one use case: it checks, changes, writes an audit event and flushes;
the caller commits once. The application's status changes only through ``workflow.transition``:

- ``assign_assessors``: submitted -> assigned (a lead is required, a second is optional);
- the lead accepts: assigned -> under_assessment; the lead declines: assigned -> submitted, and
  a second assessor's assignment is cancelled with it (the department assigns a new team: a
  second assessor cannot carry an evaluation alone, and the new lead may be from elsewhere);
- the last standing sheet is submitted (the lead's, and the second's when there is one):
  under_assessment -> assessed (``report``), and the evaluation report PDF is rendered after
  the commit (see ``reports.py``).

An assessor's recommendation (approve, reject, return with questions) is advice to the
department, which decides with its own actions (``applications.services.return_application``).
"""

import enum
import os
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from flask import Flask, current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import contains_eager

from certify.applications.kinds import is_kind, kind_of
from certify.applications.models import Application, Submission
from certify.assessment import mails
from certify.assessment.compare import needs_comment
from certify.assessment.models import (
    ACTIVE_ASSIGNMENT,
    MAX_HIGHLIGHTS_LENGTH,
    OPEN_ASSIGNMENT,
    RELATION_LABELS,
    AgencyProfile,
    AssessorProfile,
    AssessorRole,
    Assignment,
    AssignmentStatus,
    ConflictDeclaration,
    ConflictRelation,
    Recommendation,
    ScoreSheet,
)
from certify.assessment.permissions import (
    can_declare_conflicts,
    can_manage_assessment,
    can_respond_to_assignment,
    can_score,
)
from certify.audit.services import record_event
from certify.auth.models import Role, User
from certify.exceptions import PermissionDenied, ServiceError
from certify.extensions import db
from certify.i18n import date_text
from certify.jobs import call_after_commit
from certify.organisations.credit_code import CreditCodeError, normalise_credit_code
from certify.organisations.models import Organisation, OrganisationKind
from certify.organisations.reference import INDUSTRIES_BY_CODE, cities_by_code
from certify.organisations.services import create_organisation, find_by_credit_code
from certify.rulesets.applied import (
    confirmed_declarations,
    freeze,
    live_sheet_result,
    pages,
    rule_set_of,
    terms_of,
)
from certify.rulesets.forms import ParsedAnswers, answer_error_message, for_engine
from certify.scoring import Result, score
from certify.timeutil import as_utc, utcnow
from certify.workflow import Action, Status, transition

# Settings (each can be set in the environment or given to ``create_app``).
DEFAULTS = {
    # Evaluations one cap holder may take on in a calendar year: 15, per the 2024 measures
    # (绿色工厂梯度培育及管理暂行办法: at most 15 a year per agency legal representative; see
    # shared reference policy-2024-2026.md) ...
    "CERTIFY_AGENCY_YEARLY_CAP": 15,
    # ... counted per legal representative (the measures' unit) or per agency.
    "CERTIFY_CAP_UNIT": "legal_representative",
    # Days an assessor has from assignment to submission, unless the admin sets a date.
    "CERTIFY_ASSESSMENT_DUE_DAYS": 30,
    # Two assessors disagree on an indicator when their points differ by more than this ...
    "CERTIFY_SCORE_DISAGREEMENT_MARGIN": "1",
    # ... and on the whole when their totals differ by more than this.
    "CERTIFY_TOTAL_DISAGREEMENT_MARGIN": "5",
}
CONFLICT_YEARS = 3
MAX_TEXT = 4000


def init_app(app: Flask) -> None:
    """Settle the assessment settings: the environment, else the defaults; ``create_app``'s
    own ``config`` (tests) wins over both."""
    for key, default in DEFAULTS.items():
        value = os.environ.get(key)
        app.config.setdefault(key, type(default)(value) if value is not None else default)
    units = [unit.value for unit in CapUnit]
    if app.config["CERTIFY_CAP_UNIT"] not in units:
        raise RuntimeError(f"CERTIFY_CAP_UNIT must be one of {', '.join(units)}, "
                           f"not {app.config['CERTIFY_CAP_UNIT']!r}.")


def setting(key: str):
    return current_app.config.get(key, DEFAULTS[key])


def local_date(moment: datetime) -> date:
    """The day ``moment`` falls on in the deployment's time zone (China Standard Time)."""
    return as_utc(moment).astimezone(ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])).date()


def local_today() -> date:
    """Today, locally: due dates and the cap's calendar year are local dates."""
    return local_date(utcnow())


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _require_admin(user) -> None:
    if not can_manage_assessment(user):
        raise PermissionDenied(_l("Only administrators can do this."))


def _clean(text: str | None, limit: int = MAX_TEXT) -> str:
    return (text or "").strip()[:limit]


# ---- agencies and assessors --------------------------------------------------------------------


def create_agency(admin, *, legal_representative: str, qualification: str = "",
                  **organisation_fields) -> Organisation:
    """Register an assessment agency (an organisation of kind ``agency``) with its profile."""
    _require_admin(admin)
    agency = create_organisation(actor=admin, kind=OrganisationKind.AGENCY, **organisation_fields)
    save_agency_profile(admin, agency, legal_representative=legal_representative,
                        qualification=qualification)
    return agency


def agency_profile(agency: Organisation) -> AgencyProfile:
    """The agency's profile (an empty one, not yet saved, when none was recorded)."""
    profile = db.session.execute(
        select(AgencyProfile).where(AgencyProfile.organisation_id == agency.id)
    ).scalar_one_or_none()
    return profile or AgencyProfile(organisation=agency, legal_representative="", qualification="")


def save_agency_profile(admin, agency: Organisation, *, legal_representative: str,
                        qualification: str = "") -> AgencyProfile:
    """Record who signs the agency's integrity pledge, and its qualification."""
    _require_admin(admin)
    if agency.kind != OrganisationKind.AGENCY:
        raise ServiceError(_l("This organisation is not an assessment agency."))
    legal_representative = _clean(legal_representative, 100)
    if not legal_representative:
        raise ServiceError(_l("Enter the agency's legal representative."),
                           field="legal_representative")
    profile = agency_profile(agency)
    profile.legal_representative = legal_representative
    profile.qualification = _clean(qualification, 500)
    db.session.add(profile)
    record_event("agency.profile_saved", actor=admin, obj=agency, details={
        "legal_representative": legal_representative, "qualification": profile.qualification})
    return profile


def assessor_profile(assessor: User) -> AssessorProfile:
    """The assessor's expertise (an empty, unsaved profile when none was recorded)."""
    profile = db.session.execute(
        select(AssessorProfile).where(AssessorProfile.user_id == assessor.id)
    ).scalar_one_or_none()
    return profile or AssessorProfile(user=assessor, kinds=[], industries=[], city_code=None, title="")


def save_assessor_profile(admin, assessor: User, *, kinds, industries, city_code: str | None,
                          title: str = "") -> AssessorProfile:
    """Record an assessor's expertise: kinds of recognition, industries and home city."""
    _require_admin(admin)
    if assessor.role != Role.ASSESSOR:
        raise ServiceError(_l("This account is not an assessor."))
    if any(not is_kind(kind) for kind in kinds or ()):
        raise ServiceError(_l("Choose kinds of recognition from the list."), field="kinds")
    kinds = sorted({kind_of(kind).key for kind in kinds or ()})
    industries = sorted(set(industries or ()))
    unknown = [code for code in industries if code not in INDUSTRIES_BY_CODE]
    if unknown:
        raise ServiceError(_l("Choose industries from the list."), field="industries")
    if city_code and city_code not in cities_by_code():
        raise ServiceError(_l("Choose a city or prefecture of Sichuan."), field="city_code")
    profile = assessor_profile(assessor)
    profile.kinds, profile.industries = kinds, industries
    profile.city_code = city_code or None
    profile.title = _clean(title, 100)
    db.session.add(profile)
    record_event("assessor.profile_saved", actor=admin, obj=assessor, details={
        "kinds": kinds, "industries": industries, "city_code": profile.city_code,
        "title": profile.title})
    return profile


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
    name = _clean(organisation_name, 200) or (registered.name if registered else "")
    if not name:
        raise ServiceError(_l("Enter the organisation's name."), field="organisation_name")
    declaration = ConflictDeclaration(
        assessor=assessor, credit_code=code, organisation_name=name,
        relation=ConflictRelation(relation), starts_on=starts_on, ends_on=ends_on,
        note=_clean(note, 500), declared_by_id=actor.id, declared_at=utcnow(),
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
    _require_admin(admin)
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


# ---- assignment checks --------------------------------------------------------------------------


class CapUnit(enum.StrEnum):
    """What the yearly cap counts: the agency, or its legal representative (the 2024 measures:
    at most 15 evaluations a year per agency legal representative, so two agencies with one legal
    representative share one cap)."""

    LEGAL_REPRESENTATIVE = "legal_representative"
    AGENCY = "agency"


@dataclass(frozen=True)
class CapHolder:
    """Who a yearly cap belongs to: a legal representative (with the agencies they represent)
    or, when the cap counts agencies or the agency has no legal representative on record, one
    agency. ``key`` identifies it."""

    key: str
    agency_ids: frozenset
    legal_representative: str | None = None


def _person_key(name: str) -> str:
    """A legal representative's name as compared: width-folded, without spaces, case-folded."""
    return "".join(unicodedata.normalize("NFKC", name).split()).casefold()


def cap_unit() -> CapUnit:
    return CapUnit(setting("CERTIFY_CAP_UNIT"))


def cap_holders() -> dict[int, CapHolder]:
    """Every agency's cap holder, by agency id (one query over the agencies' profiles). A legal
    representative is named as the first agency registered with them spells the name."""
    agencies = db.session.execute(
        select(Organisation.id, AgencyProfile.legal_representative)
        .outerjoin(AgencyProfile, AgencyProfile.organisation_id == Organisation.id)
        .where(Organisation.kind == OrganisationKind.AGENCY).order_by(Organisation.id)).all()
    if cap_unit() == CapUnit.AGENCY:
        return {agency_id: CapHolder(f"agency:{agency_id}", frozenset({agency_id}))
                for agency_id, _name in agencies}
    people: dict[str, list] = {}
    for agency_id, name in agencies:
        people.setdefault(_person_key(name or "") or f"agency:{agency_id}", []).append((agency_id, name))
    holders = {}
    for key, represented in people.items():
        ids = frozenset(agency_id for agency_id, _name in represented)
        name = represented[0][1] if not key.startswith("agency:") else None
        holder = CapHolder(key if name is None else f"person:{key}", ids, (name or "").strip() or None)
        holders.update((agency_id, holder) for agency_id in ids)
    return holders


def evaluations_by_holder(holders, year: int) -> dict[str, int]:
    """Evaluations each of ``holders`` took on in ``year`` (local calendar year): applications
    with a standing assignment of an assessor of one of its agencies. Declined, cancelled and
    withdrawn assignments do not count; one application is one evaluation however many of the
    holder's assessors work on it. One query; holders with none left out."""
    holders = {holder.key: holder for holder in holders}
    agency_ids = set().union(*(holder.agency_ids for holder in holders.values()))
    if not agency_ids:
        return {}
    taken: dict[int, set] = {}
    for agency_id, application_id in db.session.execute(
        select(Assignment.agency_id, Assignment.application_id).where(
            Assignment.agency_id.in_(agency_ids), Assignment.status.in_(ACTIVE_ASSIGNMENT),
            Assignment.assigned_on >= date(year, 1, 1), Assignment.assigned_on <= date(year, 12, 31),
        ).distinct()):
        taken.setdefault(agency_id, set()).add(application_id)
    counts = {}
    for key, holder in holders.items():
        applications = set().union(*(taken.get(agency_id, set()) for agency_id in holder.agency_ids))
        if applications:
            counts[key] = len(applications)
    return counts


def _conflicts_with(assessor_ids, application: Application, on: date) -> dict[int, list[ConflictDeclaration]]:
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
    return _Standing(conflicts=_conflicts_with((assessor.id for assessor in assessors), application, on),
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


def yearly_cap() -> int:
    return int(setting("CERTIFY_AGENCY_YEARLY_CAP"))


def cap_reached(holder: CapHolder, agency: Organisation, year: int):
    """Why an assessor of ``agency`` cannot take one more evaluation in ``year``."""
    if holder.legal_representative:
        return _l("%(person)s, the legal representative of %(agency)s, has reached the cap of "
                  "%(cap)d evaluations in %(year)d (counted over every agency they represent).",
                  person=holder.legal_representative, agency=agency.name, cap=yearly_cap(), year=year)
    return _l("The agency %(agency)s has reached its cap of %(cap)d evaluations in %(year)d.",
              agency=agency.name, cap=yearly_cap(), year=year)


_SAME_PERSON = _l("The lead and the second assessor must be two different people.")


class AssignmentRefused(ServiceError):
    """An assignment that the checks refuse; ``reasons`` lists every reason."""

    def __init__(self, reasons: list, field: str | None = None):
        super().__init__(reasons[0], field=field)
        self.reasons = reasons


def _due_on(due_on: date | None, today: date) -> date:
    if due_on is None:
        return today + timedelta(days=int(setting("CERTIFY_ASSESSMENT_DUE_DAYS")))
    if due_on <= today:
        raise ServiceError(_l("The due date must be in the future."), field="due_on")
    return due_on


def current_round(application: Application) -> int:
    """The number of the application's latest submission: the round being assessed."""
    return db.session.execute(
        select(func.coalesce(func.max(Submission.number), 0))
        .where(Submission.application_id == application.id)
    ).scalar_one()


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
    _require_admin(admin)
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
    _require_admin(admin)
    if application.status not in (Status.ASSIGNED, Status.UNDER_ASSESSMENT):
        raise ServiceError(_l("A second assessor can be added only while the assessment is under way."))
    if any(a.role == AssessorRole.SECOND for a in current_assignments(application)):
        raise ServiceError(_l("This application already has a second assessor."), field="second_id")
    today = local_today()
    due_on = _due_on(due_on, today)
    reasons = refusals(assessor, application, on=today)
    if reasons:
        raise AssignmentRefused(reasons, field="second_id")
    return _new_assignment(admin, application, assessor, AssessorRole.SECOND, due_on, today)


def current_assignments(application: Application) -> list[Assignment]:
    """The standing assignments of the round being assessed (the latest submission), lead
    first. Earlier rounds' assignments stay as history."""
    return db.session.execute(
        select(Assignment).where(Assignment.application_id == application.id,
                                 Assignment.submission_number == current_round(application),
                                 Assignment.status.in_(ACTIVE_ASSIGNMENT))
        .order_by(Assignment.role, Assignment.id)
    ).scalars().all()


@dataclass(frozen=True)
class AssessedScore:
    total: Decimal
    passed: bool


def assessed_scores(application_ids) -> dict[int, AssessedScore]:
    """The lead assessor's submitted result of each application's latest round (one query)."""
    rows = db.session.execute(
        select(Assignment.application_id, ScoreSheet.total, ScoreSheet.passed)
        .join(ScoreSheet, ScoreSheet.assignment_id == Assignment.id)
        .where(Assignment.application_id.in_(application_ids), Assignment.role == AssessorRole.LEAD,
               Assignment.status == AssignmentStatus.SUBMITTED)
        .order_by(Assignment.submission_number, Assignment.id))
    return {application_id: AssessedScore(total, bool(passed)) for application_id, total, passed in rows}


def assignment_history(application: Application) -> list[Assignment]:
    return db.session.execute(
        select(Assignment).where(Assignment.application_id == application.id)
        .order_by(Assignment.assigned_at.desc(), Assignment.id.desc())
    ).scalars().all()


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


def open_loads() -> dict[int, int]:
    """Open (waiting or accepted) assignments per assessor."""
    return dict(db.session.execute(
        select(Assignment.assessor_id, func.count()).where(Assignment.status.in_(OPEN_ASSIGNMENT))
        .group_by(Assignment.assessor_id)
    ).all())


def active_assessors() -> list[User]:
    return db.session.execute(
        select(User).join(User.organisation).options(contains_eager(User.organisation)).where(
            User.role == Role.ASSESSOR, User.is_active.is_(True),
            Organisation.kind == OrganisationKind.AGENCY, Organisation.is_active.is_(True))
        .order_by(User.name)
    ).scalars().all()


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
    _require_admin(admin)
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
    reason = _clean(reason)
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
        _report_if_complete(application, assessor)


def withdraw_assignment(admin, application: Application, *, reason: str) -> list[Assignment]:
    """The department takes a stalled assessment back: every standing assignment of the round
    ends as withdrawn, with the reason (score sheets stay with them as history and are never
    reused: a new assignment opens a new sheet), and the application returns to the assignment
    queue (assigned or under_assessment -> submitted). The assessors hear why; the applicant
    hears that new assessors will be assigned."""
    _require_admin(admin)
    reason = _clean(reason)
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


# ---- scoring ----------------------------------------------------------------------------------------


class StaleSheet(ServiceError):
    """The sheet was saved elsewhere (another tab) after this page was opened."""

    def __init__(self):
        super().__init__(_l("This score sheet has been saved elsewhere since you opened this "
                            "page. Your input is shown below but was not saved: check it and "
                            "save again."))


NA_DECISIONS = ("confirmed", "refused")


def _require_scoring(assessor, sheet: ScoreSheet, seen_version: int | None) -> None:
    if not can_score(assessor, sheet.assignment):
        raise PermissionDenied(_l("This score sheet cannot be changed now."))
    if seen_version is not None and seen_version != sheet.version:
        raise StaleSheet()


def _refresh_total(sheet: ScoreSheet) -> Result:
    result, _refused = live_sheet_result(sheet)
    sheet.total, sheet.passed = result.total, result.passed
    return result


def save_scores(assessor, sheet: ScoreSheet, parsed: ParsedAnswers, notes: dict, *,
                seen_version: int | None, decisions: dict | None = None) -> list[str]:
    """Store one page of the sheet: valid answers (with the texts typed), notes (indicator id ->
    note kind -> text) and decisions on the applicant's not-applicable declarations (indicator id
    -> ``confirmed`` or ``refused``). Returns the indicator ids that changed; invalid answers are
    not stored (the page shows them back). Saving is always allowed while scoring: nothing is
    checked for completeness here."""
    _require_scoring(assessor, sheet, seen_version)
    declared = sheet.assignment.application.not_applicable or {}
    answers = dict(sheet.answers or {})
    texts = dict(sheet.answer_texts or {})
    stored_decisions = dict(sheet.not_applicable or {})
    stored_notes = {key: dict(value) for key, value in (sheet.notes or {}).items()}
    changed = {key for key, value in parsed.answers.items() if answers.get(key) != value}
    changed |= {key for key in parsed.cleared if key in answers}
    for key, decision in (decisions or {}).items():
        if key not in declared or decision not in NA_DECISIONS:
            raise ServiceError(_l("Only the applicant's not-applicable declarations can be confirmed or refused."))
        if decision == "confirmed" and (parsed.answers.get(key) is not None
                                        or (answers.get(key) is not None and key not in parsed.cleared)):
            raise ServiceError(_l("You confirmed that an indicator does not apply: clear its score, or refuse "
                                  "the declaration."))
        if stored_decisions.get(key) != decision:
            changed.add(key)
            stored_decisions[key] = decision
    answers.update(parsed.answers)
    for key in parsed.cleared | set(parsed.answers):
        if key not in parsed.texts:
            texts.pop(key, None)
    texts.update(parsed.texts)
    for key in parsed.cleared:
        answers.pop(key, None)
    for indicator_id, by_kind in notes.items():
        current = stored_notes.get(indicator_id, {})
        updated = {kind: text for kind, text in by_kind.items() if text}
        if updated != current:
            changed.add(indicator_id)
        if updated:
            stored_notes[indicator_id] = updated
        else:
            stored_notes.pop(indicator_id, None)
    if not changed:
        return []
    sheet.answers, sheet.answer_texts, sheet.notes = answers, texts, stored_notes
    sheet.not_applicable = stored_decisions
    _refresh_total(sheet)
    record_event("score_sheet.saved", actor=assessor, obj=sheet, details={
        "assignment_id": sheet.assignment_id, "indicators": sorted(changed),
        "not_applicable": {key: stored_decisions[key] for key in sorted(decisions or {})}})
    return sorted(changed)


def save_sheet_details(assessor, sheet: ScoreSheet, *, site_visit_on: date | None,
                       site_visit_participants: str, site_visit_findings: str,
                       recommendation: str | None, return_questions: str, conclusion: str,
                       highlights: str, seen_version: int | None) -> None:
    """Store the on-site visit record, the conclusion and the recommendation (at any time)."""
    _require_scoring(assessor, sheet, seen_version)
    highlights = (highlights or "").strip()
    if len(highlights) > MAX_HIGHLIGHTS_LENGTH:
        raise ServiceError(_l("Highlights can have at most %(count)d characters.",
                              count=MAX_HIGHLIGHTS_LENGTH), field="highlights")
    if site_visit_on is not None and site_visit_on > local_today():
        raise ServiceError(_l("The on-site visit cannot be in the future."), field="site_visit_on")
    assigned_on = sheet.assignment.assigned_on
    if site_visit_on is not None and site_visit_on < assigned_on:
        raise ServiceError(_l("The on-site visit cannot be before the assignment (%(date)s).",
                              date=date_text(assigned_on)), field="site_visit_on")
    sheet.site_visit_on = site_visit_on
    sheet.site_visit_participants = _clean(site_visit_participants)
    sheet.site_visit_findings = _clean(site_visit_findings, 20000)
    try:
        sheet.recommendation = Recommendation(recommendation) if recommendation else None
    except ValueError:
        raise ServiceError(_l("Choose one of the recommendations."), field="recommendation") from None
    sheet.return_questions = _clean(return_questions)
    sheet.conclusion = _clean(conclusion, 20000)
    sheet.highlights = highlights or None
    if db.session.is_modified(sheet):
        record_event("score_sheet.details_saved", actor=assessor, obj=sheet, details={
            "assignment_id": sheet.assignment_id,
            "recommendation": sheet.recommendation.value if sheet.recommendation else None,
            "site_visit_on": site_visit_on.isoformat() if site_visit_on else None})


def comment_kinds(rule_set, indicator) -> tuple[str, ...]:
    """The note kinds that count as the comment the report shows and the applicant may read:
    the indicator's applicant-visible kinds (any kind when the file makes none visible)."""
    return indicator.applicant_visible_notes or tuple(kind.key for kind in rule_set.note_kinds)


def submission_problems(sheet: ScoreSheet) -> list[tuple[str, object]]:
    """What must be done before the sheet can be submitted, as (what, indicator or None):
    a decision on each of the applicant's not-applicable declarations; every applicable
    indicator scored (a declaration refused, too); no score the rule file refuses; a comment
    where the score differs from the self-assessment, for every unmet requirement and for every
    declaration refused; a recommendation (with questions when returning); for the lead, the
    on-site visit record."""
    application = sheet.assignment.application
    rule_set = rule_set_of(application)
    result, refused = live_sheet_result(sheet)
    answers, notes = sheet.answers or {}, sheet.notes or {}
    declared, decisions = application.not_applicable or {}, sheet.not_applicable or {}
    confirmed = confirmed_declarations(sheet)
    scoreable = {i.id for _p, _s, page in pages(rule_set, application.industry_code, confirmed) for i in page}
    self_answers = application.answers or {}
    problems = []
    for indicator_id in (error.indicator_id for error in refused):
        indicator = rule_set.indicator(indicator_id)
        problems.append(("refused", (indicator, answer_error_message(
            next(e for e in refused if e.indicator_id == indicator_id), indicator))))
    for _page, _section, indicators in pages(rule_set, application.industry_code, declared):
        for indicator in indicators:
            if indicator.id in declared and decisions.get(indicator.id) not in NA_DECISIONS:
                problems.append(("na_decision", indicator))
                continue
            if indicator.id in confirmed or indicator.id not in scoreable:
                continue
            answer = answers.get(indicator.id)
            if answer is None:
                problems.append(("unscored", indicator))
                continue
            row = result.indicator(indicator.id)
            refused_declaration = decisions.get(indicator.id) == "refused"
            if refused_declaration or needs_comment(indicator, self_answers.get(indicator.id), answer, row.points,
                                                    row.met):
                written = notes.get(indicator.id, {})
                if not any(written.get(kind) for kind in comment_kinds(rule_set, indicator)):
                    problems.append(("comment", indicator))
    if sheet.recommendation is None:
        problems.append(("recommendation", None))
    elif sheet.recommendation == Recommendation.RETURN and not sheet.return_questions:
        problems.append(("return_questions", None))
    if sheet.assignment.role == AssessorRole.LEAD:
        if sheet.site_visit_on is None or not sheet.site_visit_findings:
            problems.append(("site_visit", None))
        if not sheet.conclusion:
            problems.append(("conclusion", None))
    return problems


def submit_sheet(assessor, sheet: ScoreSheet, *, seen_version: int | None = None) -> Result:
    """Submit the sheet: it is frozen with the engine's result. When it is the last standing
    sheet of the application, the application is reported (-> assessed)."""
    _require_scoring(assessor, sheet, seen_version)
    if submission_problems(sheet):
        raise ServiceError(_l("The score sheet is not complete yet: see the list of what is missing."))
    # Frozen with the terms frozen with the application: nothing re-scores it later.
    application = sheet.assignment.application
    rule_set, terms = rule_set_of(application), terms_of(application)
    result = score(rule_set, for_engine(rule_set, sheet.answers), not_applicable=confirmed_declarations(sheet),
                   threshold=terms.threshold, industry=application.industry_code)
    sheet.total, sheet.passed = result.total, result.passed
    now = utcnow()
    sheet.result = freeze(result, terms)
    sheet.submitted_at = now
    assignment = sheet.assignment
    assignment.status = AssignmentStatus.SUBMITTED
    assignment.submitted_at = now
    record_event("score_sheet.submitted", actor=assessor, obj=sheet, details={
        "assignment_id": assignment.id, "application_id": assignment.application_id,
        "role": assignment.role.value, "total": str(result.total), "passed": result.passed,
        "recommendation": sheet.recommendation.value})
    _report_if_complete(assignment.application, assessor)
    return result


def _report_if_complete(application: Application, actor) -> None:
    """Report the application once the lead and every other standing assessor submitted."""
    if application.status != Status.UNDER_ASSESSMENT:
        return
    standing = current_assignments(application)
    if not any(a.role == AssessorRole.LEAD for a in standing):
        return
    if any(a.status != AssignmentStatus.SUBMITTED for a in standing):
        return
    lead_sheet = next(a.sheet for a in standing if a.role == AssessorRole.LEAD)
    transition(application, Action.REPORT, actor, details={
        "total": str(lead_sheet.total), "passed": lead_sheet.passed,
        "recommendation": lead_sheet.recommendation.value,
        "sheets": [a.sheet.id for a in standing]})
    from certify.assessment.reports import generate_report_job

    call_after_commit(generate_report_job, application.id)


def disagreement_margins() -> tuple[Decimal, Decimal]:
    return (Decimal(str(setting("CERTIFY_SCORE_DISAGREEMENT_MARGIN"))),
            Decimal(str(setting("CERTIFY_TOTAL_DISAGREEMENT_MARGIN"))))
