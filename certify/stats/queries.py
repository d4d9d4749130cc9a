"""The figures behind each chart. Every query aggregates in the database (GROUP BY), so the
cost does not grow with what is sent to the browser; each returns a ``Table``."""

from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from certify.applications.kinds import all_kinds, kind_label
from certify.applications.models import Application
from certify.assessment.models import OPEN_ASSIGNMENT, Assignment, AssignmentStatus, ScoreSheet
from certify.certificates.models import Certificate, CertificateStatus
from certify.extensions import db
from certify.organisations.models import Organisation
from certify.organisations.reference import INDUSTRIES_BY_CODE, cities
from certify.publication.models import Decision, DecisionOutcome
from certify.rulesets import current_registry
from certify.timeutil import local_today
from certify.workflow import STATUS_LABELS, Status

# Score bands for the distribution of section scores, as a share of the section's maximum.
SCORE_BANDS = ((0, 20), (20, 40), (40, 60), (60, 80), (80, 101))


@dataclass
class Table:
    """A chart's data: ``kind`` of chart, column headings, and rows (label, value, …)."""

    key: str
    title: object
    chart: str
    columns: list
    rows: list


def applications_by_status_and_kind(language: str) -> Table:
    counts = dict(((status, kind), count) for status, kind, count in db.session.execute(
        select(Application.status, Application.kind, func.count()).group_by(Application.status, Application.kind)))
    kinds = [kind.key for kind in all_kinds()]
    rows = [[str(STATUS_LABELS[status])] + [counts.get((status, kind), 0) for kind in kinds]
            for status in Status]
    return Table("status", _l("Applications by status and kind"), "stacked",
                 [_l("Status")] + [kind_label(kind, language) for kind in kinds], rows)


def applications_over_time(language: str, months: int = 24) -> Table:
    month = func.strftime("%Y-%m", Application.created_at) if db.engine.dialect.name == "sqlite" \
        else func.to_char(Application.created_at, "YYYY-MM")
    counts = dict(((label, kind), count) for label, kind, count in db.session.execute(
        select(month, Application.kind, func.count()).group_by(month, Application.kind)))
    labels = sorted({label for label, _ in counts})[-months:]
    kinds = [kind.key for kind in all_kinds()]
    rows = [[label] + [counts.get((label, kind), 0) for kind in kinds] for label in labels]
    return Table("over_time", _l("Applications opened per month"), "line",
                 [_l("Month")] + [kind_label(kind, language) for kind in kinds], rows)


def applications_by_city(language: str) -> Table:
    counts = dict(db.session.execute(
        select(Organisation.city_code, func.count()).join(Application.organisation)
        .group_by(Organisation.city_code)).all())
    rows = [[city.name(language), counts.get(city.code, 0)] for city in cities()]
    return Table("city", _l("Applications by city or prefecture"), "bar",
                 [_l("City or prefecture"), _l("Applications")], rows)


def applications_by_industry(language: str) -> Table:
    """Applications by industry division (大类): the first two digits of their class."""
    division = func.substr(Application.industry_code, 1, 2)
    counts = db.session.execute(
        select(division, func.count()).group_by(division).order_by(func.count().desc(), division)).all()
    rows = []
    for code, count in counts:
        industry = INDUSTRIES_BY_CODE.get(code or "")
        rows.append([f"{code} {industry.name(language)}" if industry else str(_l("Not given")), count])
    return Table("industry", _l("Applications by industry"), "bar",
                 [_l("Industry"), _l("Applications")], rows)


def pass_rates(language: str) -> Table:
    counts = dict(((kind, outcome), count) for kind, outcome, count in db.session.execute(
        select(Application.kind, Decision.outcome, func.count()).join(Decision.application)
        .group_by(Application.kind, Decision.outcome)))
    rows = []
    for kind in (k.key for k in all_kinds()):
        approved = counts.get((kind, DecisionOutcome.APPROVED), 0)
        rejected = counts.get((kind, DecisionOutcome.REJECTED), 0)
        decided = approved + rejected
        rate = round(100 * approved / decided, 1) if decided else 0
        rows.append([kind_label(kind, language), rate, approved, rejected])
    return Table("pass_rates", _l("Approval rate by kind (%)"), "bar",
                 [_l("Kind"), _l("Approved (%)"), _l("Approved"), _l("Rejected")], rows)


def section_score_distribution(language: str, limit: int = 5000) -> Table:
    """How assessors' section scores spread, as shares of each section's maximum (the latest
    ``limit`` submitted score sheets), by the section's title in ``language``."""
    results = db.session.execute(
        select(Application.rule_set_id, ScoreSheet.result)
        .join(Assignment, Assignment.id == ScoreSheet.assignment_id)
        .join(Application, Application.id == Assignment.application_id)
        .where(ScoreSheet.submitted_at.is_not(None))
        .order_by(ScoreSheet.submitted_at.desc()).limit(limit))
    titles = _section_titles(language)
    bands = Counter()
    sections = []
    for rule_set_id, result in results:
        for section in (result or {}).get("sections", []):
            maximum = Decimal(section["max"])
            if maximum <= 0:
                continue
            share = Decimal(section["score"]) * 100 / maximum
            band = next(n for n, (low, high) in enumerate(SCORE_BANDS) if low <= share < high)
            title = titles.get((rule_set_id, section["id"]), section["id"])
            bands[(title, band)] += 1
            if title not in sections:
                sections.append(title)
    rows = [[section] + [bands[(section, n)] for n in range(len(SCORE_BANDS))] for section in sections]
    return Table("sections", _l("Assessors' section scores (share of the section's maximum)"), "stacked",
                 [_l("Section")] + [f"{low}–{min(high, 100)}%" for low, high in SCORE_BANDS], rows)


def _section_titles(language: str) -> dict[tuple[str, str], str]:
    """Each (rule set, section) title as the newest version of its rule file names it."""
    titles = {}
    for rule_set in current_registry().all():  # oldest versions first: newer ones overwrite
        for section in rule_set.sections:
            titles[(rule_set.id, section.id)] = section.title.zh if language == "zh" else section.title.en
    return titles


def assessor_workload(language: str) -> Table:
    from certify.auth.models import User

    rows = []
    query = (select(User.name, Assignment.status, func.count()).join(Assignment.assessor)
             .group_by(User.name, Assignment.status))
    counts = Counter()
    for name, status, count in db.session.execute(query):
        counts[(name, "open" if status in OPEN_ASSIGNMENT else status.value)] += count
    names = sorted({name for name, _ in counts})
    for name in names:
        rows.append([name, counts[(name, "open")], counts[(name, AssignmentStatus.SUBMITTED.value)],
                     counts[(name, AssignmentStatus.DECLINED.value)]])
    return Table("workload", _l("Assessor workload"), "stacked",
                 [_l("Assessor"), _l("Open"), _l("Submitted"), _l("Declined")], rows)


def _days_between(start, end):
    """SQL for the days (with fractions) from ``start`` to ``end``."""
    if db.session.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", end - start) / 86400
    return func.julianday(end) - func.julianday(start)


def assessment_turnaround(language: str) -> Table:
    """Days from assignment to the submitted score sheet, per assessor (mean)."""
    from certify.auth.models import User

    days = _days_between(Assignment.assigned_at, Assignment.submitted_at)
    rows = db.session.execute(
        select(User.name, func.avg(days), func.count()).join(Assignment.assessor)
        .where(Assignment.submitted_at.is_not(None))
        .group_by(User.id, User.name).order_by(User.name, User.id)).all()
    table_rows = [[name, round(float(mean), 1), count] for name, mean, count in rows]
    return Table("turnaround", _l("Days from assignment to submitted assessment (mean)"), "bar",
                 [_l("Assessor"), _l("Days"), _l("Assessments")], table_rows)


def certificates_expiring(language: str, days: int = 90) -> Table:
    today = local_today()
    certificates = db.session.execute(
        select(Certificate).where(Certificate.status == CertificateStatus.VALID,
                                  Certificate.valid_until >= today,
                                  Certificate.valid_until <= today + timedelta(days=days))
        .order_by(Certificate.valid_until).limit(500)).scalars().all()
    rows = [[c.number, c.organisation_name, c.valid_until.isoformat(), (c.valid_until - today).days]
            for c in certificates]
    return Table("expiring", _l("Certificates expiring within 90 days"), "table",
                 [_l("Number"), _l("Organisation"), _l("Valid until"), _l("Days left")], rows)


# Chart key -> the query that makes its table, in the order the page shows them.
QUERIES = {
    "status": applications_by_status_and_kind,
    "over_time": applications_over_time,
    "city": applications_by_city,
    "industry": applications_by_industry,
    "pass_rates": pass_rates,
    "sections": section_score_distribution,
    "workload": assessor_workload,
    "turnaround": assessment_turnaround,
    "expiring": certificates_expiring,
}
