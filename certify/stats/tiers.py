"""Figures of the tiers (city pre-review, provincial list, national recommendation) and of the
cohort grades, by city and by industry class (GB/T 4754-2017). One GROUP BY query per table;
each returns a ``Table`` with a totals row last.

The national packages are read from the audit log (``national_package.built``: the units that
went into each zip); an application counts once however many packages held it.

``open_data()`` is the public, non-personal part: counts only, no unit named."""

from collections.abc import Callable

from flask_babel import lazy_gettext as _l
from sqlalchemy import case, distinct, false, func, literal, or_, select

from certify.applications.models import Application
from certify.audit.models import AuditEvent
from certify.extensions import db
from certify.grades.models import GradingRun, UnitGrade
from certify.grades.ranking import Grade, Outcome
from certify.organisations.models import Organisation
from certify.organisations.reference import cities_by_code, industry_label
from certify.stats.queries import Table
from certify.tiers.models import CityDecision, CityReview
from certify.tiers.permissions import city_review_kinds
from certify.workflow import Status

NATIONAL_PACKAGE_EVENT = "national_package.built"

# Grade columns, in the order shown: the three grades, withheld, and every other outcome.
GRADE_COLUMNS = ("a_plus", "a", "b", "withheld", "not_graded")


def _city_name(code: str | None, language: str) -> str:
    city = cities_by_code().get(code or "")
    return city.name(language) if city else (code or str(_l("Not given")))


def _industry_name(code: str | None, language: str) -> str:
    return industry_label(code, language) or str(_l("Not given"))


# Dimension key -> (SQL column grouped by, how a code is named, heading).
DIMENSIONS: dict[str, tuple] = {
    "city": (Organisation.city_code, _city_name, _l("City or prefecture")),
    "industry": (Application.industry_code, _industry_name, _l("Industry class")),
}


def packaged_application_ids() -> set[int]:
    """Every application put into a national recommendation package (the audit log's record)."""
    ids = set()
    for details in db.session.execute(
            select(AuditEvent.details).where(AuditEvent.action == NATIONAL_PACKAGE_EVENT)).scalars():
        for unit in (details or {}).get("units", []):
            if isinstance(unit, dict) and unit.get("application_id") is not None:
                ids.add(int(unit["application_id"]))
    return ids


def _count_if(condition):
    return func.count(distinct(case((condition, Application.id))))


def _with_totals(rows: list[list]) -> list[list]:
    if not rows:
        return rows
    totals = [str(_l("Total of all rows"))] + [sum(row[n] for row in rows) for n in range(1, len(rows[0]))]
    return rows + [totals]


def _named_rows(counts, name: Callable[[str | None, str], str], language: str) -> list[list]:
    """Rows ``[name, counts…]`` ordered by code (cities in their reference order first)."""
    order = {code: n for n, code in enumerate(cities_by_code())}
    counts = sorted(counts, key=lambda row: (order.get(row[0], len(order)), row[0] or "~"))
    return [[name(code, language)] + [int(value or 0) for value in values] for code, *values in counts]


def tier_counts(dimension: str) -> list[tuple]:
    """``(code, submitted, recommended, returned, listed, packaged)`` per city or industry class:
    applications of the kinds the bureaus pre-review submitted at least once, those the bureau
    recommended / returned (at least once), those on the provincial list now (listed), and those
    put into a national recommendation package."""
    column = DIMENSIONS[dimension][0]
    reviewed = city_review_kinds()
    packaged = packaged_application_ids()
    query = (
        select(column,
               _count_if(Application.kind.in_(reviewed) & Application.submitted_at.is_not(None)),
               _count_if(CityReview.decision == CityDecision.RECOMMENDED),
               _count_if(CityReview.decision == CityDecision.RETURNED),
               _count_if(Application.status == Status.LISTED),
               _count_if(Application.id.in_(packaged)) if packaged else literal(0))
        .join(Organisation, Organisation.id == Application.organisation_id)
        .outerjoin(CityReview, CityReview.application_id == Application.id)
        .where(or_(Application.kind.in_(reviewed) & Application.submitted_at.is_not(None),
                   Application.status == Status.LISTED, CityReview.id.is_not(None),
                   Application.id.in_(packaged) if packaged else false()))
        .group_by(column))
    return [tuple(row) for row in db.session.execute(query)]


def _tiers_table(dimension: str, language: str) -> Table:
    _column, name, heading = DIMENSIONS[dimension]
    rows = _with_totals(_named_rows(tier_counts(dimension), name, language))
    title = _l("Tiers by city or prefecture") if dimension == "city" else _l("Tiers by industry class")
    return Table(f"tiers_{dimension}", title, "table",
                 [heading, _l("Submitted for city review"), _l("Recommended by the city bureau"),
                  _l("Returned by the city bureau"), _l("On the provincial list"),
                  _l("In a national recommendation package")], rows)


def tiers_by_city(language: str) -> Table:
    return _tiers_table("city", language)


def tiers_by_industry(language: str) -> Table:
    return _tiers_table("industry", language)


def current_grading_run() -> GradingRun | None:
    """The current (newest) run of the latest period graded."""
    return db.session.execute(
        select(GradingRun).order_by(GradingRun.period.desc(), GradingRun.id.desc()).limit(1)).scalar()


def grade_counts(dimension: str, run: GradingRun | None) -> list[tuple]:
    """``(code, A+, A, B, withheld, not graded)`` per city or industry class in ``run``."""
    if run is None:
        return []
    column = DIMENSIONS[dimension][0]

    def count(condition):
        return func.sum(case((condition, 1), else_=0))

    graded = UnitGrade.outcome == Outcome.GRADED
    query = (
        select(column, count(graded & (UnitGrade.grade == Grade.A_PLUS)), count(graded & (UnitGrade.grade == Grade.A)),
               count(graded & (UnitGrade.grade == Grade.B)), count(UnitGrade.outcome == Outcome.WITHHELD),
               count((UnitGrade.outcome != Outcome.GRADED) & (UnitGrade.outcome != Outcome.WITHHELD)))
        .join(Organisation, Organisation.id == UnitGrade.organisation_id)
        .join(Application, Application.id == UnitGrade.application_id)
        .where(UnitGrade.run_id == run.id).group_by(column))
    return [tuple(row) for row in db.session.execute(query)]


def _grades_table(dimension: str, language: str) -> Table:
    _column, name, heading = DIMENSIONS[dimension]
    run = current_grading_run()
    rows = _with_totals(_named_rows(grade_counts(dimension, run), name, language))
    period = run.period.isoformat() if run else "—"
    title = (_l("Grades by city or prefecture (period %(period)s)", period=period) if dimension == "city"
             else _l("Grades by industry class (period %(period)s)", period=period))
    return Table(f"grades_{dimension}", title, "table",
                 [heading, "A+", "A", "B", _l("Withheld"), _l("Not graded")], rows)


def grades_by_city(language: str) -> Table:
    return _grades_table("city", language)


def grades_by_industry(language: str) -> Table:
    return _grades_table("industry", language)


# ---- open data (public API) --------------------------------------------------------------------

def _listed_counts(dimension: str) -> list[tuple]:
    """``(code, kind, count)`` of the applications on the provincial list now."""
    column = DIMENSIONS[dimension][0]
    return list(db.session.execute(
        select(column, Application.kind, func.count())
        .join(Organisation, Organisation.id == Application.organisation_id)
        .where(Application.status == Status.LISTED)
        .group_by(column, Application.kind).order_by(column, Application.kind)))


def open_data(kind_name: Callable[[str], dict]) -> dict:
    """The public figures: listed units by city and industry class and kind; grade counts of the
    current grading run by city and industry class. Counts only: no unit is named."""
    run = current_grading_run()
    answer: dict = {"grades_period": run.period if run else None}
    for dimension in DIMENSIONS:
        listed: dict[str | None, list] = {}
        for code, kind, count in _listed_counts(dimension):
            listed.setdefault(code, []).append({"kind": kind, "kind_name": kind_name(kind), "count": count})
        answer[f"listed_by_{dimension}"] = [
            {**_place(dimension, code), "total": sum(k["count"] for k in kinds), "kinds": kinds}
            for code, kinds in listed.items()]
        answer[f"grades_by_{dimension}"] = [
            {**_place(dimension, code), **dict(zip(GRADE_COLUMNS, (int(v or 0) for v in values), strict=True))}
            for code, *values in grade_counts(dimension, run)]
    return answer


def _place(dimension: str, code: str | None) -> dict:
    if dimension == "city":
        city = cities_by_code().get(code or "")
        return {"code": code, "name": {"zh": city.name_zh, "en": city.name_en} if city else None}
    label = industry_label(code, "zh")
    return {"code": code, "name": {"zh": label, "en": industry_label(code, "en")} if label else None}


# Table key -> the query that makes it, in the order the statistics page shows them.
TIER_QUERIES = {
    "tiers_city": tiers_by_city,
    "tiers_industry": tiers_by_industry,
    "grades_city": grades_by_city,
    "grades_industry": grades_by_industry,
}
