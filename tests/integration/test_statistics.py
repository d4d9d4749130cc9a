"""Statistics: every chart has its data as JSON and CSV, and the page works on demo data."""

import csv
import io

import pytest

from certify.stats.queries import QUERIES
from tests import factories

EN = {"Accept-Language": "en"}


def test_the_statistics_page_shows_every_chart(client, login_as, db):
    login_as("admin")
    factories.assessed_application()
    db.session.commit()
    page = client.get("/admin/statistics", headers=EN).get_data(as_text=True)
    for key in QUERIES:
        assert f"/admin/statistics/{key}.csv" in page
    assert "vendor/chartjs/chart.umd.min.js" in page and "<script>" not in page


@pytest.mark.parametrize("key", list(QUERIES))
def test_each_chart_s_data_downloads_as_json_and_csv(client, login_as, db, key):
    login_as("admin")
    factories.approved_application()
    db.session.commit()
    data = client.get(f"/admin/statistics/{key}.json", headers=EN).json
    assert data["key"] == key and data["columns"]
    rows = list(csv.reader(io.StringIO(client.get(f"/admin/statistics/{key}.csv").data.decode("utf-8-sig"))))
    assert len(rows) == len(data["rows"]) + 1


def test_counts_by_city_cover_all_21_and_count_applications(client, login_as, db):
    login_as("admin")
    organisation = factories.make_organisation(city_code="511500")
    factories.make_application(factories.make_user("applicant", organisation=organisation))
    db.session.commit()
    data = client.get("/admin/statistics/city.json", headers=EN).json
    assert len(data["rows"]) == 21
    assert ["Yibin", 1] in data["rows"]


def test_the_approval_rate_follows_the_decisions(client, login_as, db):
    login_as("admin")
    admin = factories.make_user("admin")
    factories.approved_application(admin=admin)
    rejected = factories.assessed_application()
    from certify.publication import services

    services.decide(admin, rejected, "rejected", "未达到合格分数线")
    db.session.commit()
    rows = {row[0]: row for row in client.get("/admin/statistics/pass_rates.json", headers=EN).json["rows"]}
    assert rows["Green supply-chain management enterprise"][1:] == [50.0, 1, 1]


@pytest.mark.parametrize("role", ["applicant", "assessor"])
def test_statistics_are_for_administrators(client, login_as, role):
    login_as(role)
    assert client.get("/admin/statistics").status_code == 403
    assert client.get("/admin/statistics/city.csv").status_code == 403


def test_the_console_and_statistics_work_on_the_demo_data(app, client, db):
    assert app.test_cli_runner().invoke(args=["demo", "load"]).exit_code == 0
    from sqlalchemy import select

    from certify.auth.models import User

    admin = db.session.execute(select(User).where(User.email == "admin@example.com")).scalar_one()
    client.post("/login", data={"email": admin.email, "password": "certify-demo"})
    for path in ["/admin/", "/admin/users", "/admin/organisations", "/admin/rule-sets", "/admin/audit?verify=1",
                 "/admin/mail", "/admin/statistics", "/admin/certificates", "/admin/batches", "/assessment/"]:
        assert client.get(path, headers=EN).status_code == 200, path
    status = client.get("/admin/statistics/status.json", headers=EN).json
    assert sum(sum(row[1:]) for row in status["rows"]) == 8  # the demo's eight applications
    city = {row[0]: row[1] for row in client.get("/admin/statistics/city.json", headers=EN).json["rows"]}
    assert city["Panzhihua"] == 3 and city["Deyang"] == 2 and city["Yibin"] == 3


def test_the_turnaround_is_each_assessors_mean_days_to_a_submitted_sheet(client, login_as, db):
    from sqlalchemy import select

    from certify.assessment.models import Assignment
    from certify.auth.models import User
    from certify.demo.scale import load_scale
    from certify.workflow import Status

    login_as("admin")
    factories.make_assessor()
    factories.make_assessor()
    load_scale(30, shares={Status.ASSESSED: 1.0}, echo=lambda *_: None)
    db.session.commit()
    days: dict[str, list[float]] = {}
    for name, assigned_at, submitted_at in db.session.execute(
            select(User.name, Assignment.assigned_at, Assignment.submitted_at).join(Assignment.assessor)
            .where(Assignment.submitted_at.is_not(None))):
        days.setdefault(name, []).append((submitted_at - assigned_at).total_seconds() / 86400)
    assert sum(len(spans) for spans in days.values()) >= 30
    rows = {row[0]: row[1:] for row in client.get("/admin/statistics/turnaround.json", headers=EN).json["rows"]}
    assert set(rows) == set(days)
    for name, spans in days.items():
        assert rows[name][0] == pytest.approx(sum(spans) / len(spans), abs=0.051)  # shown to 0.1 day
        assert rows[name][1] == len(spans)


def test_section_scores_are_labelled_with_the_sections_titles(app, client, login_as, db):
    from certify.demo.scale import load_scale
    from certify.rulesets import current_registry
    from certify.workflow import Status

    login_as("admin")
    factories.make_assessor()
    load_scale(6, shares={Status.ASSESSED: 1.0}, echo=lambda *_: None)
    db.session.commit()
    titles = {section.title for rule_set in current_registry().all() for section in rule_set.sections}
    zh = client.get("/admin/statistics/sections.json", headers={"Accept-Language": "zh"}).json["rows"]
    en = client.get("/admin/statistics/sections.json", headers=EN).json["rows"]
    assert zh and {row[0] for row in zh} <= {title.zh for title in titles}
    assert {row[0] for row in en} <= {title.en for title in titles}
    assert sum(sum(row[1:]) for row in zh) >= 6  # every section of every sheet counted once
