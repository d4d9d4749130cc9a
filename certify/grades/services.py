"""Cohort grades use cases: grading a closed declaration period (a new run each time, the newest
the period's current one), and reading runs and a unit's grade history.

Each use case checks, changes, writes an audit event and flushes; the caller commits once.
"""

from collections import Counter
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from certify.applications.models import Application
from certify.audit.services import record_event
from certify.exceptions import PermissionDenied, ServiceError
from certify.extensions import db
from certify.grades.models import GradingRun, UnitGrade
from certify.grades.permissions import can_manage_grades
from certify.grades.ranking import (
    GradingRules,
    Outcome,
    Unit,
    cohort_key,
    grade_units,
    parse_cohort_fields,
)
from certify.management import services as management
from certify.management.models import Declaration, DeclarationStatus
from certify.management.periods import period_for
from certify.plausibility.services import open_flags_for
from certify.workflow import Status

# Why a unit is not graded, recorded on its row (labels in ``certify.grades.models``).
NOT_DECLARED_REASON = "not_declared"
OPEN_PLAUSIBILITY_FLAG_REASON = "plausibility_flags_open"
_SIX_PLACES = Decimal("0.000001")


# ---- settings ----------------------------------------------------------------------------------

def grading_rules() -> GradingRules:
    config = current_app.config
    return GradingRules(minimum_size=config["CERTIFY_GRADE_MINIMUM_COHORT"],
                        top_share=config["CERTIFY_GRADE_TOP_SHARE"],
                        second_share=config["CERTIFY_GRADE_SECOND_SHARE"])


def cohort_fields() -> tuple[str, ...]:
    return parse_cohort_fields(current_app.config["CERTIFY_GRADE_COHORT"])


def graded_kinds() -> tuple[str, ...]:
    return tuple(current_app.config["CERTIFY_GRADE_KINDS"])


def run_settings(kinds) -> dict:
    rules = grading_rules()
    return {"cohort": list(cohort_fields()), "minimum_cohort": rules.minimum_size,
            "top_share": str(rules.top_share), "second_share": str(rules.second_share),
            "kinds": list(kinds)}


# ---- periods -----------------------------------------------------------------------------------

class PeriodNotClosed(ServiceError):
    def __init__(self, period: date):
        super().__init__(_l("The declaration period due %(date)s has not closed yet: only a closed "
                            "period can be graded.", date=period.isoformat()), field="period")


def check_closed_period(period: date, today: date | None = None) -> None:
    """Refuse a date that is not the due date of a closed period."""
    if period_for(period, management.due_dates()) != period:
        raise ServiceError(_l("%(date)s is not the due date of a declaration period.",
                              date=period.isoformat()), field="period")
    if period > management.last_closed_period(today):
        raise PeriodNotClosed(period)


# ---- withholding -------------------------------------------------------------------------------

def withheld_application_ids(application_ids) -> dict[int, str]:
    """Application id -> why it is withheld from grading, for those of ``application_ids`` whose
    figures hold plausibility flags not yet cleared (``certify.plausibility``)."""
    open_flags = open_flags_for(application_ids)
    return {application_id: OPEN_PLAUSIBILITY_FLAG_REASON
            for application_id, flags in sorted(open_flags.items()) if flags}


# ---- grading -----------------------------------------------------------------------------------

def _decimal(value) -> Decimal | None:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def _listed(kinds) -> list[Application]:
    return db.session.execute(
        select(Application).where(Application.status == Status.LISTED, Application.kind.in_(kinds))
        .order_by(Application.id)).scalars().all()


def submitted_declarations(application_ids, period: date) -> dict[int, Declaration]:
    if not application_ids:
        return {}
    return {d.application_id: d for d in db.session.execute(
        select(Declaration).where(Declaration.application_id.in_(application_ids),
                                  Declaration.period == period,
                                  Declaration.status != DeclarationStatus.DRAFT)).scalars()}


def unit_cohort(application: Application, fields) -> str:
    """The cohort of a unit: its kind, then the configured fields of its organisation."""
    organisation = application.organisation
    industry = application.industry_code or organisation.industry_code
    return f"kind={application.kind};" + cohort_key(fields, industry, organisation.city_code)


def units_of(applications, declarations: dict[int, Declaration], fields) -> tuple[list[Unit], dict]:
    """The units to rank (those with a submitted declaration) and the key indicators' better
    directions (indicator id -> ``"higher"`` / ``"lower"``)."""
    units, directions = [], {}
    for application in applications:
        declaration = declarations.get(application.id)
        if declaration is None:
            continue
        indicators = management.key_metrics(application)
        for indicator in indicators:
            directions.setdefault(indicator.id, indicator.better)
        known = {indicator.id for indicator in indicators}
        values = {key: number for key, value in management.declared_values(declaration, indicators).items()
                  if key in known and (number := _decimal(value)) is not None}
        units.append(Unit(application.id, unit_cohort(application, fields), values))
    return units, directions


def grade_period(user, period: date | None = None, *, kinds=None, today: date | None = None) -> GradingRun:
    """Grade every listed unit of ``kinds`` (``CERTIFY_GRADE_KINDS`` by default) from its submitted
    declaration of the closed ``period`` (the last closed one by default): a new run, which
    becomes the period's current one. ``user`` is an administrator, or ``None`` for the command
    line."""
    if user is not None and not can_manage_grades(user):
        raise PermissionDenied(_l("Only the department grades a declaration period."))
    period = period or management.last_closed_period(today)
    check_closed_period(period, today)
    kinds = tuple(kinds or graded_kinds())
    fields = cohort_fields()
    applications = _listed(kinds)
    declarations = submitted_declarations([a.id for a in applications], period)
    units, directions = units_of(applications, declarations, fields)
    withheld = withheld_application_ids(unit.key for unit in units)
    reports = grade_units(units, directions, grading_rules(), withheld)
    run = GradingRun(period=period, run_by_id=user.id if user is not None else None,
                     settings=run_settings(kinds), units_count=len(applications))
    db.session.add(run)
    by_id = {a.id: a for a in applications}
    for report in reports:
        for result in report.units:
            application = by_id[result.key]
            run.grades.append(UnitGrade(
                application_id=application.id, organisation_id=application.organisation_id,
                cohort=report.cohort, cohort_size=report.size, outcome=result.outcome,
                grade=result.grade, rank=result.rank, tied_at_boundary=result.tied_at_boundary,
                composite=_rounded(result.composite), reason=result.reason))
    for application in applications:
        if application.id not in declarations:
            run.grades.append(UnitGrade(
                application_id=application.id, organisation_id=application.organisation_id,
                cohort=unit_cohort(application, fields), cohort_size=0,
                outcome=Outcome.NOT_DECLARED, reason=NOT_DECLARED_REASON))
    db.session.flush()
    counts = Counter(g.grade.value if g.grade else g.outcome.value for g in run.grades)
    record_event("grades.period_graded", actor=user, obj=run, details={
        "period": period.isoformat(), "settings": run.settings, "counts": dict(sorted(counts.items())),
        "cohorts": len(reports), "cohorts_graded": sum(1 for r in reports if r.is_graded)})
    return run


def _rounded(composite) -> Decimal | None:
    if composite is None:
        return None
    return (Decimal(composite.numerator) / Decimal(composite.denominator)).quantize(
        _SIX_PLACES, rounding=ROUND_HALF_EVEN)


# ---- reading -----------------------------------------------------------------------------------

def runs(limit: int = 50) -> list[GradingRun]:
    """The runs, newest first."""
    return db.session.execute(
        select(GradingRun).order_by(GradingRun.run_at.desc(), GradingRun.id.desc()).limit(limit)
    ).scalars().all()


def current_run_ids() -> set[int]:
    """The current run of each period graded: its newest."""
    newest = (select(GradingRun.period, func.max(GradingRun.id).label("run_id"))
              .group_by(GradingRun.period).subquery())
    return set(db.session.execute(select(newest.c.run_id)).scalars())


def cohorts_of(run: GradingRun) -> list[dict]:
    """The run's cohorts: key, size (units compared), whether graded, and the count of each
    outcome and grade."""
    cohorts: dict[str, dict] = {}
    for grade in run.grades:
        entry = cohorts.setdefault(grade.cohort, {"cohort": grade.cohort, "size": 0, "is_graded": False,
                                                   "units": 0, "counts": Counter()})
        entry["units"] += 1
        entry["size"] = max(entry["size"], grade.cohort_size)
        entry["is_graded"] = entry["is_graded"] or grade.outcome == Outcome.GRADED
        entry["counts"][grade.grade.value if grade.grade else grade.outcome.value] += 1
    return sorted(cohorts.values(), key=lambda entry: entry["cohort"])


def grades_of_run(run: GradingRun, cohort: str | None = None):
    """The query of the run's unit results (of one cohort when given), by cohort then rank; the
    organisation and application of each loaded with it."""
    query = (select(UnitGrade).where(UnitGrade.run_id == run.id)
             .options(selectinload(UnitGrade.organisation), selectinload(UnitGrade.application)))
    if cohort:
        query = query.where(UnitGrade.cohort == cohort)
    return query.order_by(UnitGrade.cohort, UnitGrade.rank.is_(None), UnitGrade.rank,
                          UnitGrade.application_id)


def grade_history(organisation_id: int) -> list[UnitGrade]:
    """The organisation's grades in the current run of each period graded, newest period first
    (superseded runs are the department's record, not shown to the unit)."""
    current = current_run_ids()
    if not current:
        return []
    return db.session.execute(
        select(UnitGrade).join(GradingRun).where(UnitGrade.organisation_id == organisation_id,
                                                 UnitGrade.run_id.in_(current))
        .options(selectinload(UnitGrade.application), selectinload(UnitGrade.run))
        .order_by(GradingRun.period.desc(), UnitGrade.application_id)).scalars().all()
