"""Statistics of the tiers and grades by city and industry class, worked out by hand: two cities,
Chengdu with two supply chains under the bureau's pre-review (one recommended, one returned) and a
listed factory put into a national package, Zigong with two listed factories; a grading run whose
newest run holds A+, B and withheld. The page, the JSON and the CSV give the same counts; the
public statistics give the counts and name no unit."""

import csv
import html
import io
from decimal import Decimal

import pytest

from certify.auth.models import Role
from certify.grades import services as grades
from certify.grades.models import GradingRun, UnitGrade
from certify.grades.ranking import Grade, Outcome
from certify.management import services as management
from certify.tiers import national
from certify.tiers import services as city_reviews
from tests import factories
from tests.integration.grades_world import after, listed_units

CHENGDU, ZIGONG = "510100", "510300"
ZH = {"Accept-Language": "zh"}
# Columns: submitted for city review, recommended, returned, listed, in a national package.
TIERS_BY_CITY = {"成都市": [2, 1, 1, 1, 1], "自贡市": [0, 0, 0, 2, 0], "合计": [2, 1, 1, 3, 1]}
# Columns: A+, A, B, withheld, not graded (the newest run of the period only).
GRADES_BY_CITY = {"成都市": [0, 0, 1, 0, 0], "自贡市": [1, 0, 0, 1, 0], "合计": [1, 0, 1, 1, 0]}


@pytest.fixture()
def world(app, db, monkeypatch):
    admin = factories.make_user(Role.ADMIN)
    chengdu_factory = listed_units(1, admin=admin, city_code=CHENGDU, industry_code="3120")[0]
    zigong_factories = listed_units(2, admin=admin, city_code=ZIGONG, industry_code="3120")
    db.session.commit()  # the certificates' PDFs are rendered after the commit
    national.build_package(admin, [chengdu_factory.id])
    # The bureau pre-reviews supply chains from here on (the factories above went straight to the province).
    monkeypatch.setitem(app.config, "CERTIFY_CITY_REVIEW_KINDS", ("supply_chain",))
    bureau = factories.make_city_user(CHENGDU)
    chains = []
    for subject in ("成都甲供应链", "成都乙供应链"):
        organisation = factories.make_organisation(city_code=CHENGDU, industry_code="3311",
                                                   credit_code=factories.credit_code(city_code=CHENGDU))
        applicant = factories.make_user(Role.APPLICANT, organisation=organisation)
        chains.append(factories.make_submitted_application(applicant, subject=subject, kind="supply_chain"))
    with app.test_request_context():
        city_reviews.recommend_application(bureau, chains[0], "同意推荐。")
        city_reviews.return_application(bureau, chains[1], "请补充材料。")
    # A first run of the period (no declarations: all three not graded), then a newer one of the
    # same period, the current one, with known grades.
    period = management.current_period()
    grades.grade_period(admin, period, today=after(period))
    newer = GradingRun(period=period, run_by_id=admin.id, settings={}, units_count=3)
    db.session.add(newer)
    db.session.flush()
    for application, outcome, grade, rank in ((zigong_factories[0], Outcome.GRADED, Grade.A_PLUS, 1),
                                              (zigong_factories[1], Outcome.WITHHELD, None, None),
                                              (chengdu_factory, Outcome.GRADED, Grade.B, 2)):
        db.session.add(UnitGrade(run_id=newer.id, application_id=application.id,
                                 organisation_id=application.organisation_id, cohort="factory|3120",
                                 cohort_size=3, outcome=outcome, grade=grade, rank=rank,
                                 composite=None if rank is None else Decimal(1) / rank))
    db.session.commit()
    return {"admin": admin, "chains": chains, "factories": [chengdu_factory, *zigong_factories],
            "period": period}


def rows_by_name(rows) -> dict:
    """Each row's counts by its name; the totals row (the last) as "合计"."""
    named = {row[0]: list(row[1:]) for row in rows[:-1]}
    return named | {"合计": list(rows[-1][1:])} if rows else named


def test_the_tiers_and_grades_by_city_are_counted_as_worked_out(client, login_as, world):
    login_as(world["admin"])
    tiers = client.get("/admin/statistics/tiers_city.json", headers=ZH).get_json()
    assert rows_by_name(tiers["rows"]) == TIERS_BY_CITY
    grades_table = client.get("/admin/statistics/grades_city.json", headers=ZH).get_json()
    assert rows_by_name(grades_table["rows"]) == GRADES_BY_CITY
    assert world["period"].isoformat() in grades_table["title"]


def test_the_tiers_and_grades_by_industry_class_are_counted_as_worked_out(client, login_as, world):
    login_as(world["admin"])
    tiers = rows_by_name(client.get("/admin/statistics/tiers_industry.json", headers=ZH).get_json()["rows"])
    steel = next(name for name in tiers if name.startswith("3120"))
    chains = next(name for name in tiers if name.startswith("3311"))
    assert "炼钢" in steel
    assert tiers[steel] == [0, 0, 0, 3, 1]
    assert tiers[chains] == [2, 1, 1, 0, 0]
    assert tiers["合计"] == [2, 1, 1, 3, 1]
    graded = rows_by_name(client.get("/admin/statistics/grades_industry.json", headers=ZH).get_json()["rows"])
    assert graded == {steel: [1, 0, 1, 1, 0], "合计": [1, 0, 1, 1, 0]}


def test_the_page_and_the_csv_show_the_same_counts(client, login_as, world):
    login_as(world["admin"])
    page = html.unescape(client.get("/admin/statistics", headers=ZH).get_data(as_text=True))
    for key in ("tiers_city", "tiers_industry", "grades_city", "grades_industry"):
        assert f"/admin/statistics/{key}.csv" in page and f"/admin/statistics/{key}.json" in page
    assert "成都市" in page and "自贡市" in page and "510300" not in page
    response = client.get("/admin/statistics/tiers_city.csv", headers=ZH)
    assert response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert rows_by_name([[row[0]] + [int(value) for value in row[1:]] for row in rows[1:]]) == TIERS_BY_CITY


def test_only_the_department_reads_the_tier_statistics(client, login_as, world):
    login_as(factories.make_city_user(CHENGDU))
    assert client.get("/admin/statistics/tiers_city.json").status_code in (403, 404)


def test_the_public_statistics_give_counts_and_name_no_unit(client, world):
    answer = client.get("/api/v1/statistics").get_json()
    listed = {entry["code"]: entry for entry in answer["listed_by_city"]}
    assert listed[CHENGDU]["total"] == 1 and listed[ZIGONG]["total"] == 2
    assert listed[ZIGONG]["name"]["zh"] == "自贡市"
    assert [(kind["kind"], kind["count"]) for kind in listed[ZIGONG]["kinds"]] == [("factory", 2)]
    assert {entry["code"]: entry["total"] for entry in answer["listed_by_industry"]} == {"3120": 3}
    assert answer["grades_period"] == world["period"].isoformat()
    by_city = {entry["code"]: entry for entry in answer["grades_by_city"]}
    assert (by_city[ZIGONG]["a_plus"], by_city[ZIGONG]["withheld"], by_city[CHENGDU]["b"]) == (1, 1, 1)
    [steel] = answer["grades_by_industry"]
    assert (steel["code"], steel["a_plus"], steel["a"], steel["b"], steel["withheld"], steel["not_graded"]) \
        == ("3120", 1, 0, 1, 1, 0)
    body = client.get("/api/v1/statistics").get_data(as_text=True)
    for application in world["factories"] + world["chains"]:
        organisation = application.organisation
        assert organisation.name not in body and organisation.credit_code not in body


def test_no_grading_run_yet_gives_empty_grade_tables(client, login_as, db):
    admin = factories.make_user(Role.ADMIN)
    login_as(admin)
    assert client.get("/admin/statistics/grades_city.json").get_json()["rows"] == []
    answer = client.get("/api/v1/statistics").get_json()
    assert answer["grades_period"] is None and answer["grades_by_city"] == []
    assert client.get("/admin/statistics").status_code == 200
