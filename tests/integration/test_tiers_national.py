"""The national recommendation: the provincially listed factories and parks, the guard's figures
for each (worked out by hand), and the package the department downloads (summary.xlsx in the
configured column order, each unit's certificate PDF)."""

import html
import io
import zipfile
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from certify.applications import services as applications
from certify.audit.models import AuditEvent
from certify.auth.models import Role
from certify.certificates.services import certificate_for
from certify.demo import builders
from certify.exceptions import ServiceError
from certify.rulesets.forms import ParsedAnswers
from certify.tiers import national
from certify.tiers.guard import NOT_WORSE, WORSE
from tests import factories

EN = {"Accept-Language": "en"}
# The 2025 factory rule set's key indicator that is answered directly (not computed): the number
# of carbon-management items in place (count, higher is better).
METRIC = "energy.carbon_platform"


@pytest.fixture()
def people(db):
    return {"admin": factories.make_user(Role.ADMIN), "assessor": factories.make_assessor()}


def listed_factory(app, people, value, *, name, city="510100"):
    """A factory answering ``value`` for METRIC, assessed, approved and listed on a provincial list."""
    organisation = factories.make_organisation(name=name, city_code=city,
                                               credit_code=factories.credit_code(city_code=city))
    applicant = factories.make_user(Role.APPLICANT, organisation=organisation)
    admin = people["admin"]
    with app.test_request_context():
        application = builders.complete(applicant, kind="factory", subject=f"{name}生产基地", **factories.EVIDENCE)
        applications.save_answers(applicant, application, ParsedAnswers(answers={METRIC: value}), seen_version=None)
        applications.submit_application(applicant, application, pledge_name=applicant.name, pledge_accepted=True)
        builders.assessed(application, admin=admin, lead=people["assessor"])
        builders.decided(application, admin=admin, reason="符合要求")
        builders.announced(builders.in_notice([application], admin=admin, title="2026年度绿色制造省级名单"),
                           admin=admin)
    return application


@pytest.fixture()
def four_factories(app, db, people):
    """Four listed steel-making factories (3120): 6, 8, 10 and 7 carbon-management items."""
    units = [listed_factory(app, people, value, name=name)
             for value, name in ((6, "甲钢铁"), (8, "乙钢铁"), (10, "丙钢铁"), (7, "丁钢铁"))]
    db.session.commit()  # the certificates' PDFs are rendered after the commit
    return units


def test_the_guard_flags_a_candidate_below_the_average_of_the_other_listed_units(four_factories):
    by_name = {c.organisation.name: {comparison.indicator_id: comparison for comparison in c.comparisons}
               for c in national.candidates(four_factories)}
    # 丁: the others have 6, 8 and 10 → average 8; 7 < 8 where higher is better: flagged.
    ding = by_name["丁钢铁"][METRIC]
    assert (ding.outcome, ding.value, ding.average, ding.peers) == (WORSE, Decimal(7), Decimal(8), 3)
    # 丙: the others have 6, 8 and 7 → average 7; 10 is better: not flagged.
    bing = by_name["丙钢铁"][METRIC]
    assert (bing.outcome, bing.average, bing.peers) == (NOT_WORSE, Decimal(7), 3)
    # The computed metrics are compared by their values: the arc furnace's 0.061 tce for 1 t is
    # 61 kgce/t at every unit, no worse than the average.
    arc = by_name["丁钢铁"]["energy.electric_arc_furnace"]
    assert (arc.outcome, arc.value, arc.average, arc.peers) == (NOT_WORSE, Decimal(61), Decimal(61), 3)
    assert [i for i, c in by_name["丁钢铁"].items() if c.outcome == WORSE] == [METRIC]


def test_with_fewer_peers_than_the_minimum_the_guard_says_there_is_no_comparison(app, monkeypatch, four_factories):
    monkeypatch.setitem(app.config, "CERTIFY_GUARD_MIN_PEERS", 4)
    assert {c.outcome for c in national.candidates(four_factories)[0].comparisons} == {"too_few_peers"}


def test_the_page_lists_the_candidates_with_the_guards_figures(client, login_as, people, four_factories):
    login_as(people["admin"])
    page = html.unescape(client.get("/admin/national-recommendation", headers=EN).get_data(as_text=True))
    assert all(name in page for name in ("甲钢铁", "乙钢铁", "丙钢铁", "丁钢铁"))
    assert "7 items against an average of 8.00 items over 3 units" in page
    assert "Worse than the average" in page
    # The filters: another city has none of them.
    page = client.get("/admin/national-recommendation?city=510300", headers=EN).get_data(as_text=True)
    assert "甲钢铁" not in page


def test_the_package_holds_the_summary_in_the_configured_order_and_each_units_certificate(
        app, client, login_as, monkeypatch, db, people, four_factories):
    monkeypatch.setitem(app.config, "CERTIFY_NATIONAL_SUMMARY_COLUMNS",
                        ("credit_code", "organisation", "certificate_number", "key_indicators"))
    login_as(people["admin"])
    chosen = [four_factories[3], four_factories[0]]
    response = client.post("/admin/national-recommendation/package",
                           data={"application_ids": [str(a.id) for a in chosen]})
    assert response.status_code == 200 and response.mimetype == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    sheet = load_workbook(io.BytesIO(archive.read("summary.xlsx"))).active
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert "暂定" in rows[0][0]  # the provisional note comes first
    assert rows[1] == ["序号 No.", "统一社会信用代码", "单位名称", "证书编号", "关键指标（核定值及单位）"]
    certificates = [certificate_for(a) for a in chosen]
    assert [row[:4] for row in rows[2:]] == [
        [1, chosen[0].organisation.credit_code, "丁钢铁", certificates[0].number],
        [2, chosen[1].organisation.credit_code, "甲钢铁", certificates[1].number]]
    assert "7 项" in rows[2][4]
    names = archive.namelist()
    for position, (application, certificate) in enumerate(zip(chosen, certificates, strict=True), start=1):
        pdf = f"{position:02d}-{application.organisation.name}/证书-{certificate.number}.pdf"
        assert pdf in names and archive.read(pdf).startswith(b"%PDF")
    assert "README.txt" in names
    event = db.session.execute(select(AuditEvent).where(AuditEvent.action == "national_package.built")).scalar_one()
    assert [unit["application_id"] for unit in event.details["units"]] == [a.id for a in chosen]
    assert event.details["units"][0]["flagged"] == [METRIC]


def test_only_listed_factories_and_parks_go_into_a_package(app, db, people, four_factories):
    supply_chain = factories.listed_application(admin=people["admin"])
    with pytest.raises(ServiceError, match="只有已列入省级名单的工厂和园区"):
        national.build_package(people["admin"], [four_factories[0].id, supply_chain.id])
    with pytest.raises(ServiceError, match="请至少选择一家"):
        national.build_package(people["admin"], [])


def test_an_unknown_summary_column_is_refused_by_name(app, monkeypatch, db, people, four_factories):
    monkeypatch.setitem(app.config, "CERTIFY_NATIONAL_SUMMARY_COLUMNS", ("organisation", "annual_output"))
    with pytest.raises(ServiceError, match="annual_output"):
        national.build_package(people["admin"], [four_factories[0].id])


def test_an_unknown_guard_region_stops_the_start_naming_the_setting(make_app):
    from certify.config import SettingError

    with pytest.raises(SettingError, match="CERTIFY_GUARD_REGION"):
        make_app(CERTIFY_GUARD_REGION="country")


@pytest.mark.renders_reports
def test_the_package_holds_the_evaluation_report_where_certify_has_one(app, db, people):
    application = listed_factory(app, people, 9, name="戊钢铁")
    db.session.commit()  # the report and the certificate are rendered after the commit
    package = national.build_package(people["admin"], [application.id])
    archive = zipfile.ZipFile(io.BytesIO(package.data))
    report = "01-戊钢铁/评价报告.pdf"
    assert report in archive.namelist() and archive.read(report).startswith(b"%PDF")
    assert "缺" not in archive.read("README.txt").decode("utf-8")


@pytest.mark.parametrize("sent", ["²", "99999999999", "-1"])
def test_a_choice_that_is_no_row_is_refused_with_a_message(client, login_as, people, four_factories, sent):
    login_as(people["admin"])
    response = client.post("/admin/national-recommendation/package",
                           data={"application_ids": [str(four_factories[0].id), sent]}, follow_redirects=True)
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert "请在列表中重新选择" in response.get_data(as_text=True)
