"""Re-scoring listed factories under GB/T 36132-2025: each unit assessed under the 2018 edition is
read through ``criteria/mappings/`` and scored under the 2025 file, listed as would pass, would
fail or lacks data (for which indicators); nothing about the units changes."""

import csv
import io
import json
import re
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from certify.applications.models import Application
from certify.audit.models import AuditEvent
from certify.demo import builders
from certify.rulesets.applied import rule_set_of
from certify.rulesets.editions import rescore_listed
from certify.workflow import Status
from tests import factories
from tests.integration.test_assessment import client_for
from tests.integration.test_assessment_scoring import DETAILS, accepted, score_all, submit

TARGET = "factory-gbt-36132-2025"
COMMENT = {"comment": "现场核查与申报一致。"}


def assessed_2018(app, db, industry, changes=None, *, notes=None):
    """A factory opened under GB/T 36132-2018, answered at its best but for ``changes``, assessed
    by a lead assessor who found the same."""
    with factories.rule_sets_before(app, "2025-12-31"):
        organisation = factories.make_organisation(industry_code=industry)
        applicant = factories.make_user("applicant", organisation=organisation)
        application = factories.complete_application(applicant, kind="factory", subject="一号生产基地")
        assert application.rule_set_id == "factory-gbt-36132-2018"
        application.answers = factories.best_answers(rule_set_of(application), industry) | (changes or {})
        db.session.commit()
        browser = client_for(app, applicant)
        response = browser.post(f"/applications/{application.id}/submit",
                                data={"pledge_accepted": "y", "pledge_name": "周丽", "version": application.version})
        assert response.status_code == 302, re.findall(r'class="[^"]*(?:error|alert)[^"]*"[^>]*>([^<]+)', response.get_data(as_text=True))
        lead = factories.make_assessor(industries=(industry[:2],))
        factories.assign(application, lead)
        db.session.commit()
        lead_browser, assignment = accepted(app, application, lead)
        score_all(lead_browser, assignment, dict(application.answers), notes)
        assert submit(lead_browser, assignment, DETAILS).status_code == 302
    assert application.status == Status.ASSESSED
    return application


def listed(app, db, industry, changes=None, *, notes=None, stop_at=Status.LISTED):
    from certify.publication import services

    application = assessed_2018(app, db, industry, changes, notes=notes)
    admin = factories.make_user("admin")
    services.decide(admin, application, "approved", "符合要求")
    if stop_at != Status.APPROVED:
        with app.test_request_context():
            batch = builders.in_notice([application], admin=admin, title=f"公示批次{application.id}")
            if stop_at == Status.LISTED:
                builders.announced(batch, admin=admin)
    db.session.commit()
    assert application.status == stop_at
    return application


@pytest.fixture()
def units(app, db):
    """Four factories assessed under the 2018 edition:

    - a cement works (3011), listed, clinker at 103.5 kgce/t;
    - a cement works, approved, clinker at 110 (the 2025 file's 2nd grade, 107, is passed);
    - a steel works (3110), in public notice, with no 2025 figure mapped beside the requirements;
    - a steel works listed in 2018 although its energy management system, a mandatory item,
      earned none of its 3 points (the department's decision stands; under 2025 the unit fails
      basic requirement c);
    and one still under assessment, which is not re-scored."""
    cement = listed(app, db, "3011", {"energy.unit_energy.cement_clinker": "103.5"})
    cement_approved = listed(app, db, "3011", {"energy.unit_energy.cement_clinker": "110"}, stop_at=Status.APPROVED)
    steel = listed(app, db, "3110", stop_at=Status.IN_NOTICE)
    short = listed(app, db, "3110", {"energy.mandatory": "0"}, notes={"energy.mandatory": COMMENT})
    assessing = factories.make_submitted_application(
        factories.make_user("applicant", organisation=factories.make_organisation(industry_code="3011")),
        kind="factory", subject="在评工厂")
    db.session.commit()
    return cement, cement_approved, steel, short, assessing


def test_each_listed_factory_is_rescored_under_the_2025_edition_as_worked_out_by_hand(app, db, units):
    cement, cement_approved, steel, short, assessing = units
    statuses = {a.id: (a.status, a.version) for a in units}
    events = db.session.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1))

    run = rescore_listed(TARGET)

    by_id = {unit.application_id: unit for unit in run.units}
    assert set(by_id) == {cement.id, cement_approved.id, steel.id, short.id}
    # Mapped: the six veto questions, BR1–BR3 and the clinker figure. The 2018 best answers meet
    # every veto question and requirement; clinker 103.5 lies halfway between the 2025 file's
    # leading value 100 and baseline 107: 8 × (107 − 103.5) / 7 = 4.00 of 8 points. Every other
    # indicator that applies to cement is missing, so the total is 4.00, and at most 96.00 (100 − 4
    # points the clinker figure does not earn) were the rest at its best: the pass mark 60 turns on
    # the missing data.
    one = by_id[cement.id]
    assert (one.total, one.best_total, one.outcome) == (Decimal("4.00"), Decimal("96.00"), "lacks_data")
    assert one.decided_passed is True and one.status == Status.LISTED
    assert "energy.clinker" not in one.missing and "carbon.per_value" in one.missing
    assert {"V1", "BR1", "BR3"}.isdisjoint(one.missing)
    # 110 kgce/t is worse than the baseline 107: no clinker points; at most 92.00.
    two = by_id[cement_approved.id]
    assert (two.total, two.best_total, two.outcome) == (Decimal("0.00"), Decimal("92.00"), "lacks_data")
    # Steel: no 2025 steel figure is mapped (a whole-plant figure against process figures).
    three = by_id[steel.id]
    assert three.outcome == "lacks_data" and three.total == Decimal("0.00") and three.best_total == Decimal("100.00")
    assert "energy.clinker" not in three.missing and "carbon.per_value" in three.missing
    # No energy management system: basic requirement c) is not met, whatever
    # the missing data would say.
    four = by_id[short.id]
    assert four.outcome == "fail" and four.best_total == Decimal("100.00")
    assert run.counts == {"pass": 0, "fail": 1, "lacks_data": 3}
    missing = dict(run.missing_counts)
    assert missing["carbon.per_value"] == 4 and "energy.clinker" not in missing
    # Nothing changed: statuses, versions, no audit event.
    db.session.expire_all()
    for application in db.session.scalars(select(Application)):
        if application.id in statuses:
            assert (application.status, application.version) == statuses[application.id]
    assert db.session.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1)) == events


def test_the_command_prints_the_list_as_json_and_writes_csv_and_xlsx(app, db, units, tmp_path):
    cement, *_rest = units
    runner = app.test_cli_runner()

    result = runner.invoke(args=["criteria", "rescore", "--to", TARGET, "--json",
                                 "--csv", str(tmp_path / "list.csv"), "--xlsx", str(tmp_path / "list.xlsx")])

    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["to"]["id"] == TARGET and data["threshold"] == "60.00"
    assert data["counts"] == {"pass": 0, "fail": 1, "lacks_data": 3}
    unit = next(u for u in data["units"] if u["application_id"] == cement.id)
    assert unit["total"] == "4.00" and unit["best_total"] == "96.00" and unit["outcome"] == "lacks_data"
    assert unit["decided"]["passed"] is True and unit["rule_set"].startswith("factory-gbt-36132-2018@")
    rows = list(csv.reader(io.StringIO((tmp_path / "list.csv").read_bytes().decode("utf-8-sig"))))
    assert len(rows) == 5 and cement.reference in {row[0] for row in rows}
    sheet = load_workbook(tmp_path / "list.xlsx").active
    assert sheet["A1"].value.startswith(TARGET) and sheet.max_row == 6  # title, column titles, 4 units
    row = next(row for row in sheet.iter_rows(values_only=True) if row[1] == cement.reference)
    assert row[9] == 4 and row[10] == 96  # the scores as numbers


def test_a_rule_set_no_mapping_leads_to_is_refused_with_a_message(app, db):
    result = app.test_cli_runner().invoke(args=["criteria", "rescore", "--to", "supply-chain-miit-2016"])
    assert result.exit_code != 0
    assert "no mapping in criteria/mappings/ leads to supply-chain-miit-2016" in result.output
    result = app.test_cli_runner().invoke(args=["criteria", "rescore", "--to", "no-such-file"])
    assert result.exit_code != 0 and "no rule set" in result.output


PAGE = f"/admin/rule-sets/{TARGET}/rescore"


def test_an_administrator_reads_the_forecast_filters_it_and_downloads_it(client, login_as, db, units):
    cement, cement_approved, steel, short, assessing = units
    login_as("admin")

    rule_files = client.get("/admin/rule-sets").get_data(as_text=True)
    assert f'href="{PAGE}"' in rule_files and "按绿色工厂评价（GB/T 36132-2025）试算已认定单位" in rule_files

    page = client.get(PAGE).get_data(as_text=True)
    assert "预测，不是决定" in page
    for application in (cement, cement_approved, steel, short):
        assert application.reference in page
    assert assessing.reference not in page
    assert "GB/T 36132-2018（规则版本 1.1）" in page  # the edition as the department names it
    assert "单位产值二氧化碳排放量" in page and "carbon.per_value" not in page  # titles, not keys
    failing = client.get(f"{PAGE}?outcome=fail").get_data(as_text=True)
    assert short.reference in failing and cement.reference not in failing

    client.post("/language", data={"language": "en"})
    english = client.get(PAGE).get_data(as_text=True)
    assert "A forecast, not a decision" in english and "Would fail" in english

    download = client.get(f"/admin/rule-sets/{TARGET}/rescore.xlsx?outcome=lacks_data")
    assert download.status_code == 200 and download.mimetype.endswith("spreadsheetml.sheet")
    sheet = load_workbook(io.BytesIO(download.data)).active
    references = {row[1] for row in sheet.iter_rows(min_row=3, values_only=True)}
    assert references == {cement.reference, cement_approved.reference, steel.reference}
    text = client.get(f"/admin/rule-sets/{TARGET}/rescore.csv").data.decode("utf-8-sig")
    assert short.reference in text and "Would fail" in text


@pytest.mark.parametrize("role", ["applicant", "assessor"])
def test_no_one_but_an_administrator_reads_the_forecast(client, login_as, db, role):
    login_as(role)
    assert client.get(PAGE).status_code == 403
    assert client.get(f"/admin/rule-sets/{TARGET}/rescore.csv").status_code == 403


def test_a_rule_set_no_mapping_leads_to_has_no_forecast_page(client, login_as, db):
    login_as("admin")
    assert client.get("/admin/rule-sets/supply-chain-miit-2016/rescore").status_code == 404
    assert client.get("/admin/rule-sets/no-such-file/rescore.xlsx").status_code == 404
