"""Cohort grades (企业绿码) of listed factories from their declarations of a closed period: the
counts worked out by hand, small cohorts reported but not graded, flagged units withheld, runs
kept as history, the unit seeing only its own grades, and only the department running them."""

from datetime import date

import pytest
from sqlalchemy import select

from certify.audit.models import AuditEvent
from certify.auth.models import Role
from certify.exceptions import PermissionDenied, ServiceError
from certify.grades import services as grades
from certify.grades.models import GradingRun, UnitGrade
from certify.grades.ranking import Grade, Outcome
from certify.management import services as management
from tests import factories
from tests.integration.grades_world import after, declare, listed_units

INDICATOR = "energy.carbon_platform"  # GB/T 36132-2025 表C.1 序号4: functions in place, higher is better


@pytest.fixture()
def admin(db):
    return factories.make_user(Role.ADMIN)


def graded(run) -> dict[int, UnitGrade]:
    return {grade.application_id: grade for grade in run.grades}


def test_twenty_one_factories_of_one_class_get_one_a_plus_seven_a_and_thirteen_b(db, admin):
    units = listed_units(21, admin=admin)
    period = management.current_period()
    # Declared values 0..12 then 0..7 (ties on purpose); every flag reviewed by the department.
    values = [number % 13 for number in range(21)]
    for application, value in zip(units, values, strict=True):
        declare(application, {INDICATOR: value}, reviewed_by=admin)

    run = grades.grade_period(admin, period, today=after(period))

    by_id = graded(run)
    assert [by_id[a.id].grade for a in units].count(Grade.A_PLUS) == 1   # floor(0.05 · 21) = 1
    assert [by_id[a.id].grade for a in units].count(Grade.A) == 7        # floor(0.35 · 21) = 7
    assert [by_id[a.id].grade for a in units].count(Grade.B) == 13
    # By hand: the only 12 is unit 13 (A+); then the 11s, 10s … in application order: units 12
    # (11), 11 (10), 10 (9), 9 (8), then the two 7s (units 8 and 21) and the first 6 (unit 7).
    expected_a = [units[i].id for i in (11, 10, 9, 8, 7, 20, 6)]
    assert by_id[units[12].id].grade == Grade.A_PLUS and by_id[units[12].id].rank == 1
    assert sorted(a for a, g in by_id.items() if g.grade == Grade.A) == sorted(expected_a)
    # The two 6s (units 7 and 20) straddle the A / B boundary: unit 7 (opened first) takes the A.
    assert by_id[units[6].id].tied_at_boundary and by_id[units[19].id].tied_at_boundary
    assert by_id[units[19].id].grade == Grade.B
    assert {g.cohort for g in run.grades} == {"kind=factory;industry=3120;province=51"}
    assert run.settings == {"cohort": ["industry", "province"], "minimum_cohort": 20,
                            "top_share": "0.05", "second_share": "0.35", "kinds": ["factory"]}
    event = db.session.execute(select(AuditEvent).where(AuditEvent.action == "grades.period_graded")).scalar_one()
    assert event.details["counts"] == {"a": 7, "a_plus": 1, "b": 13}


def test_a_cohort_of_nineteen_is_reported_with_ranks_but_not_graded(db, admin):
    units = listed_units(19, admin=admin)
    period = management.current_period()
    for number, application in enumerate(units):
        declare(application, {INDICATOR: number % 13}, reviewed_by=admin)

    run = grades.grade_period(admin, period, today=after(period))

    assert {g.outcome for g in run.grades} == {Outcome.SMALL_COHORT}
    assert all(g.grade is None and g.rank is not None for g in run.grades)
    [cohort] = grades.cohorts_of(run)
    assert (cohort["size"], cohort["is_graded"]) == (19, False)


def test_a_unit_with_a_flag_not_yet_reviewed_is_withheld_and_does_not_count(db, admin):
    units = listed_units(21, admin=admin)
    period = management.current_period()
    for number, application in enumerate(units[:20]):
        declare(application, {INDICATOR: number % 13}, reviewed_by=admin)
    # Below the value at certification: flagged, and the department has not reviewed it yet.
    flagged = declare(units[20], {INDICATOR: 3})
    assert flagged.is_flagged
    assert grades.withheld_application_ids([a.id for a in units]) == {
        units[20].id: grades.OPEN_PLAUSIBILITY_FLAG_REASON}

    run = grades.grade_period(admin, period, today=after(period))

    withheld = graded(run)[units[20].id]
    assert (withheld.outcome, withheld.grade, withheld.reason) == (
        Outcome.WITHHELD, None, grades.OPEN_PLAUSIBILITY_FLAG_REASON)
    # Twenty left: floor(1.0) = 1 A+, floor(7.0) = 7 A, 12 B.
    others = [g.grade for g in run.grades if g.application_id != units[20].id]
    assert (others.count(Grade.A_PLUS), others.count(Grade.A), others.count(Grade.B)) == (1, 7, 12)
    assert {g.cohort_size for g in run.grades if g.outcome == Outcome.GRADED} == {20}


def test_a_listed_unit_that_did_not_declare_is_recorded_as_not_graded(db, admin):
    units = listed_units(3, admin=admin)
    period = management.current_period()
    declare(units[0], {INDICATOR: 5}, reviewed_by=admin)
    declare(units[1], {INDICATOR: 7}, reviewed_by=admin)
    run = grades.grade_period(admin, period, today=after(period))
    assert graded(run)[units[2].id].outcome == Outcome.NOT_DECLARED
    assert graded(run)[units[1].id].rank == 1


def test_grading_again_makes_a_new_run_and_keeps_the_earlier_one(db, admin):
    units = listed_units(2, admin=admin)
    period = management.current_period()
    for application in units:
        declare(application, {INDICATOR: 4}, reviewed_by=admin)
    first = grades.grade_period(admin, period, today=after(period))
    second = grades.grade_period(None, period, today=after(period))

    assert first.id != second.id
    assert len(db.session.execute(select(GradingRun)).scalars().all()) == 2
    assert grades.current_run_ids() == {second.id}
    assert len(first.grades) == len(second.grades) == 2
    history = grades.grade_history(units[0].organisation_id)
    assert [g.run_id for g in history] == [second.id]
    assert second.run_by_id is None  # the command line


def test_a_period_not_yet_closed_is_refused_with_a_clear_message(db, admin):
    period = management.current_period()
    with pytest.raises(ServiceError) as refused:
        grades.grade_period(admin, period, today=period)
    assert "尚未截止" in str(refused.value.message)
    with pytest.raises(ServiceError):
        grades.grade_period(admin, date(2026, 3, 1), today=after(period))  # not a due date
    assert db.session.execute(select(GradingRun)).first() is None


@pytest.mark.parametrize("role", [Role.APPLICANT, Role.ASSESSOR])
def test_only_the_department_grades(db, role):
    with pytest.raises(PermissionDenied):
        grades.grade_period(factories.make_user(role), management.last_closed_period())


# ---- pages and command ---------------------------------------------------------------------------

@pytest.fixture()
def graded_world(app, db, admin, monkeypatch):
    """Three listed factories, each of its own organisation, graded in a cohort of three (the
    minimum lowered to 2 for the test): values 9, 5, 2 -> A+ none (floor(0.15) = 0), A one
    (floor(1.05) = 1: the 9), B two."""
    monkeypatch.setitem(app.config, "CERTIFY_GRADE_MINIMUM_COHORT", 2)
    units = listed_units(3, admin=admin)
    period = management.current_period()
    for application, value in zip(units, (9, 5, 2), strict=True):
        declare(application, {INDICATOR: value}, reviewed_by=admin)
    run = grades.grade_period(admin, period, today=after(period))
    db.session.commit()
    return units, run


def test_the_department_reads_each_cohort_and_each_units_grade(client, login_as, graded_world, admin):
    units, run = graded_world
    login_as(admin)
    page = client.get("/admin/grades").get_data(as_text=True)
    assert "绿色工厂 · 3120 炼钢 · 四川省" in page
    for application in units:
        assert application.reference in page
    assert "<strong>A</strong>" in page and page.count("<strong>B</strong>") == 2
    # The run's settings in words, not the setting's keys and fractions.
    settings = client.get("/admin/grades", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "cohorts by industry class, province" in settings and "A+ for the top 5 %, A for the next 35 %" in settings
    assert "industry,province" not in settings.replace(" ", "") and "0.05" not in settings
    filtered = client.get("/admin/grades", query_string={"run": run.id, "cohort": "kind=park;all=*"})
    assert filtered.status_code == 200  # an unknown cohort shows the whole run
    assert client.get("/admin/grades", query_string={"run": "x", "page": "y"}).status_code == 200


def test_the_units_of_a_run_come_in_pages(app, client, login_as, graded_world, admin, monkeypatch):
    units, run = graded_world
    monkeypatch.setitem(app.config, "PAGE_SIZE", 2)
    login_as(admin)
    first = client.get("/admin/grades").get_data(as_text=True)
    second = client.get("/admin/grades", query_string={"run": run.id, "page": 2}).get_data(as_text=True)
    # Ranks 1 and 2 (values 9 and 5) on the first page, rank 3 (value 2) on the second.
    assert units[0].reference in first and units[1].reference in first and units[2].reference not in first
    assert units[2].reference in second and units[0].reference not in second


def test_the_department_runs_grading_from_its_page_and_earlier_runs_are_kept(client, login_as, db, graded_world, admin):
    _units, first = graded_world
    login_as(admin)
    period = management.last_closed_period()
    response = client.post("/admin/grades/run", data={"period": period.isoformat()})
    assert response.status_code == 302
    runs = db.session.execute(select(GradingRun).order_by(GradingRun.id)).scalars().all()
    assert [r.id for r in runs][0] == first.id and len(runs) == 2
    assert runs[1].period == period and runs[1].run_by_id == admin.id
    refused = client.post("/admin/grades/run", data={"period": management.current_period().isoformat()},
                          follow_redirects=True)
    text = refused.get_data(as_text=True)
    assert "Choose a closed declaration period." in text or "请选择已截止的声明期" in text
    assert len(db.session.execute(select(GradingRun)).scalars().all()) == 2


@pytest.mark.parametrize("role", ["applicant", "assessor"])
def test_nobody_but_the_department_can_run_grading_or_read_the_grades_page(client, login_as, db, graded_world, role):
    login_as(role)
    assert client.post("/admin/grades/run", data={"period": management.last_closed_period().isoformat()}).status_code == 403
    assert client.get("/admin/grades").status_code == 403
    assert len(db.session.execute(select(GradingRun)).scalars().all()) == 1


def test_a_unit_sees_its_own_grade_history_and_no_other_units(client, login_as, graded_world):
    units, _run = graded_world
    login_as(units[0].created_by)
    page = client.get("/declarations").get_data(as_text=True)
    assert units[0].reference in page and "<strong>A</strong>" in page
    assert units[1].reference not in page and units[2].reference not in page


def test_a_unit_not_graded_sees_no_grades_section(client, login_as, graded_world):
    login_as("applicant")
    assert "own-grades" not in client.get("/declarations").get_data(as_text=True)


def test_the_command_grades_a_closed_period_and_refuses_an_open_one(app, db, admin):
    runner = app.test_cli_runner()
    period = management.last_closed_period()
    result = runner.invoke(args=["grades", "run", "--period", period.isoformat()])
    assert result.exit_code == 0, result.output
    assert f"Period {period.isoformat()} graded" in result.output
    refused = runner.invoke(args=["grades", "run", "--period", management.current_period().isoformat()])
    assert refused.exit_code != 0 and "尚未截止" in refused.output
