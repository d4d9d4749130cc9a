"""Zero-carbon construction pilots: once listed, a pilot files a yearly progress report by the
due date (31 December by default), the department reviews it after its first year (continue, or
remove it, which revokes the listing) and records the final acceptance, checked against the core
indicator (CO2 emitted ÷ comprehensive energy use)."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from certify.audit.models import AuditEvent
from certify.certificates.models import CertificateStatus
from certify.certificates.services import certificate_for
from certify.pilots import services
from certify.pilots.models import Pilot, PilotReport, PilotStatus
from certify.rulesets.forms import ParsedAnswers
from certify.timeutil import local_today
from certify.workflow import Status
from tests import factories
from tests.integration.test_assessment import client_for

# The pages are in Chinese by default; the assertions read the English text of this area's own
# messages (their Chinese is merged into the catalogue separately).
EN = {"Accept-Language": "en"}

FACTORY = "zero_carbon_factory"
PARK = "zero_carbon_park"


def make_pilot(applicant, admin, *, kind=FACTORY, subject="一号厂区零碳工厂建设", listed_days_ago=0):
    """A listed pilot of ``applicant``'s organisation, assessed and announced through the services
    (the rule file's best answers as its base year), listed ``listed_days_ago`` days ago."""
    assessor = factories.make_assessor(kinds=(kind,))
    application = factories.listed_application(applicant, admin=admin, assessor=assessor, kind=kind,
                                               subject=subject)
    certificate = certificate_for(application)
    certificate.valid_from -= timedelta(days=listed_days_ago)
    return application


def factory_figures(co2="4000", energy="10000", non_fossil="9600", green="2000000", power="5000000"):
    """The figures of a factory's report, as the form posts them."""
    return {"a-core.carbon_per_energy.C": co2, "a-core.carbon_per_energy.E": energy,
            "a-core.non_fossil_share.N": non_fossil, "a-core.non_fossil_share.E": energy,
            "a-core.physical_green_power.G": green, "a-core.physical_green_power.W": power}


def file_report(applicant, application, period=None):
    """A report filed through the service (the figures of ``factory_figures``)."""
    answers = {"core.carbon_per_energy": {"C": "4000", "E": "10000"},
               "core.non_fossil_share": {"N": "9600", "E": "10000"},
               "core.physical_green_power": {"G": "2000000", "W": "5000000"}}
    return services.file_report(applicant, application, period or services.current_period(),
                                ParsedAnswers(answers=answers), "光伏二期并网，余热回收改造完成。")


@pytest.fixture()
def people(db):
    admin = factories.make_user("admin")
    applicant = factories.make_user("applicant")
    other = factories.make_user("applicant")
    db.session.commit()
    return admin, applicant, other


def test_a_pilot_goes_from_listing_through_its_report_and_review_to_acceptance(app, db, people):
    admin, applicant, _other = people
    application = make_pilot(applicant, admin, listed_days_ago=400)
    db.session.commit()
    assert certificate_for(application).number.startswith("SC-ZF-")

    # The pilot files this year's report through its form: the values beside the base year.
    browser = client_for(app, applicant)
    assert 'href="/pilots"' in browser.get(f"/applications/{application.id}").get_data(as_text=True)
    page = browser.get(f"/pilots/{application.id}/report", headers=EN).get_data(as_text=True)
    assert "Carbon dioxide per unit of energy used" in page and "Base year" in page
    # The figures asked are the year reported's, not the base year's the rule file names.
    assert "Carbon dioxide emitted in the year reported" in page and "in the base year" not in page
    response = browser.post(f"/pilots/{application.id}/report", headers=EN, data={
        **factory_figures(), "narrative": "光伏二期并网，余热回收改造完成。"})
    assert response.status_code == 302
    report = db.session.execute(select(PilotReport)).scalar_one()
    assert report.period == services.current_period() and report.period.month == 12 and report.period.day == 31
    assert report.values["core.carbon_per_energy"] == {"C": "4000", "E": "10000"}
    shown = browser.get(response.headers["Location"], headers=EN).get_data(as_text=True)
    # base year: the best answers, 0.2 tCO2/tce; this year 4,000 / 10,000 = 0.4
    assert "0.2" in shown and "0.4" in shown and "光伏二期并网" in shown

    # The department: mid-term review after the first year, continue.
    staff = client_for(app, admin)
    assert f'href="/admin/pilots/{application.id}"' in staff.get(f"/applications/{application.id}").get_data(as_text=True)
    assert staff.post(f"/admin/pilots/{application.id}/midterm", headers=EN,
                      data={"decision": "continue", "reason": "进展符合预期"}).status_code == 302
    # Final acceptance: 1,800 / 10,000 = 0.18 ≤ 0.2, the zero-carbon level.
    response = staff.post(f"/admin/pilots/{application.id}/acceptance", headers=EN, data={
        "decision": "accept", "emitted": "1,800", "energy": "10000", "note": "各项建设任务完成，同意通过验收。"})
    assert response.status_code == 302
    pilot = db.session.execute(select(Pilot)).scalar_one()
    assert pilot.status == PilotStatus.ACCEPTED
    assert (pilot.final_value, pilot.final_threshold) == ("0.18", "0.2")
    # the pilot's listing is replaced by the certificate of recognition (test_pilots_recognition)
    assert application.status == Status.REVOKED
    assert certificate_for(application).superseded_by.status == CertificateStatus.VALID
    shown = staff.get(f"/admin/pilots/{application.id}", headers=EN).get_data(as_text=True)
    assert "Accepted" in shown and "0.18" in shown
    actions = set(db.session.execute(select(AuditEvent.action)).scalars())
    assert {"pilot.report_filed", "pilot.midterm_reviewed", "pilot.accepted"} <= actions


def test_acceptance_is_refused_when_the_final_core_figure_exceeds_the_threshold(app, db, people):
    admin, applicant, _other = people
    application = make_pilot(applicant, admin, listed_days_ago=400)
    db.session.commit()
    staff = client_for(app, admin)
    staff.post(f"/admin/pilots/{application.id}/midterm", data={"decision": "continue", "reason": ""})
    # 2,500 / 10,000 = 0.25 > 0.2: cannot be accepted, and nothing is recorded
    response = staff.post(f"/admin/pilots/{application.id}/acceptance", headers=EN, data={
        "decision": "accept", "emitted": "2500", "energy": "10000", "note": "同意通过验收。"})
    assert response.status_code == 400
    assert "0.25" in response.get_data(as_text=True) and "cannot be accepted" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.execute(select(Pilot)).scalar_one().status == PilotStatus.UNDER_CONSTRUCTION
    # the department records the refusal with its reason
    assert staff.post(f"/admin/pilots/{application.id}/acceptance", data={
        "decision": "refuse", "emitted": "2500", "energy": "10000",
        "note": "单位能耗碳排放未达到零碳水平。"}).status_code == 302
    db.session.expire_all()
    pilot = db.session.execute(select(Pilot)).scalar_one()
    assert (pilot.status, pilot.final_value, pilot.acceptance_note) == (
        PilotStatus.REFUSED, "0.25", "单位能耗碳排放未达到零碳水平。")


def test_a_park_is_accepted_against_the_threshold_of_its_band_of_energy_use(app, db):
    admin = factories.make_user("admin")
    committee = factories.make_user("applicant", organisation=factories.make_organisation("park_committee"))
    application = make_pilot(committee, admin, kind=PARK, subject="金堂经济开发区", listed_days_ago=400)
    services.record_midterm(admin, application, "continue", "")
    db.session.commit()
    # 500,000 / 2,000,000 = 0.25: over the 0.20 of a park of 20–100 万 tce, within the 0.30 of a larger one
    check = services.check_core(application, {"C": "500000", "E": "2000000"})
    assert (check.indicator.id, str(check.value), check.met) == ("core.carbon_per_energy_100", "0.25", True)
    check = services.check_core(application, {"C": "100000", "E": "400000"})
    assert (check.indicator.id, str(check.value), check.met) == ("core.carbon_per_energy_20_100", "0.25", False)
    check = services.check_core(application, {"C": "72000", "E": "400000"})
    assert check.met and str(check.value) == "0.18"


def test_a_park_reports_its_own_band_and_its_guiding_indicators(app, db):
    admin = factories.make_user("admin")
    committee = factories.make_user("applicant", organisation=factories.make_organisation("park_committee"))
    application = make_pilot(committee, admin, kind=PARK, subject="宜宾临港经济技术开发区")
    # the park declared the band it is not in not applicable in its application
    application.not_applicable = {"core.carbon_per_energy_100": "年综合能源消费量 40 万吨标准煤"}
    db.session.commit()
    ids = [i.id for i in services.report_indicators(application)]
    assert ids == ["core.carbon_per_energy_20_100", "guide.clean_energy_share", "guide.solid_waste_use",
                   "guide.waste_heat_use", "guide.water_reuse"]
    browser = client_for(app, committee)
    response = browser.post(f"/pilots/{application.id}/report", headers=EN, data={
        "a-core.carbon_per_energy_20_100.C": "76000", "a-core.carbon_per_energy_20_100.E": "400000",
        "a-guide.clean_energy_share": "85%", "a-guide.solid_waste_use": "82", "a-guide.waste_heat_use": "45",
        "a-guide.water_reuse": "88", "narrative": "分布式光伏和绿电直供项目建成投运。"})
    assert response.status_code == 302
    report = db.session.execute(select(PilotReport)).scalar_one()
    [core, clean, *_] = services.report_rows(report)
    # 76,000 / 400,000 = 0.19 this year
    assert str(core.current) == "0.19" and str(clean.current) == "85"


def test_removal_at_the_mid_term_review_revokes_the_listing(app, db, people):
    admin, applicant, _other = people
    application = make_pilot(applicant, admin, listed_days_ago=400)
    db.session.commit()
    staff = client_for(app, admin)
    # a reason is needed to remove
    response = staff.post(f"/admin/pilots/{application.id}/midterm", headers=EN, data={"decision": "remove", "reason": ""})
    assert response.status_code == 400 and "Give the reason" in response.get_data(as_text=True)
    assert staff.post(f"/admin/pilots/{application.id}/midterm", data={
        "decision": "remove", "reason": "建设进展缓慢，主要任务未启动。"}).status_code == 302
    db.session.expire_all()
    assert application.status == Status.REVOKED
    assert certificate_for(application).status == CertificateStatus.REVOKED
    assert db.session.execute(select(Pilot)).scalar_one().status == PilotStatus.REMOVED
    # the removed pilot reports no more
    browser = client_for(app, applicant)
    assert browser.get(f"/pilots/{application.id}/report").status_code == 404


def test_the_mid_term_review_waits_for_the_end_of_the_first_year(app, db, people):
    admin, applicant, _other = people
    application = make_pilot(applicant, admin, listed_days_ago=30)
    db.session.commit()
    staff = client_for(app, admin)
    # The page says when the review opens, and offers no form before then.
    page = staff.get(f"/admin/pilots/{application.id}", headers=EN).get_data(as_text=True)
    assert "after the pilot's first year" in page and f"/admin/pilots/{application.id}/midterm" not in page
    response = staff.post(f"/admin/pilots/{application.id}/midterm", headers=EN,
                          data={"decision": "continue", "reason": ""})
    assert response.status_code == 400 and "after the pilot's first year" in response.get_data(as_text=True)
    assert db.session.execute(select(Pilot.midterm_decision)).scalar_one_or_none() is None


def test_a_report_missing_at_the_due_date_is_shown_overdue_and_can_be_filed_late(app, db, people):
    admin, applicant, _other = people
    application = make_pilot(applicant, admin, listed_days_ago=400)
    db.session.commit()
    closed = services.last_closed_period()
    assert (closed.month, closed.day) == (12, 31) and closed < local_today()
    listing = client_for(app, admin).get("/admin/pilots", headers=EN).get_data(as_text=True)
    assert "Overdue since" in listing and application.reference in listing
    browser = client_for(app, applicant)
    own = browser.get("/pilots", headers=EN).get_data(as_text=True)
    assert "File it late" in own
    response = browser.post(f"/pilots/{application.id}/report?period={closed.isoformat()}", data={
        **factory_figures(), "narrative": "补报上一年度进展。"})
    assert response.status_code == 302
    report = db.session.execute(select(PilotReport)).scalar_one()
    assert report.period == closed and report.is_late
    listing = client_for(app, admin).get("/admin/pilots", headers=EN).get_data(as_text=True)
    assert "Overdue since" not in listing


def test_the_due_date_is_a_setting(make_app, db):
    app = make_app(CERTIFY_PILOT_REPORT_DUE_DATES="06-30")
    with app.app_context():
        period = services.current_period()
    assert (period.month, period.day) == (6, 30)


def test_another_organisation_cannot_read_or_file_a_pilots_report(app, db, people):
    admin, applicant, other = people
    application = make_pilot(applicant, admin, listed_days_ago=400)
    report = file_report(applicant, application)
    db.session.commit()
    intruder = client_for(app, other)
    assert intruder.get(f"/pilots/reports/{report.id}").status_code == 404
    assert intruder.get(f"/pilots/{application.id}/report").status_code == 404
    assert intruder.post(f"/pilots/{application.id}/report", data={
        **factory_figures(), "narrative": "冒名报送"}).status_code == 404
    assert application.reference not in intruder.get("/pilots").get_data(as_text=True)
    assert intruder.get(f"/admin/pilots/{application.id}").status_code == 403
    assert intruder.post(f"/admin/pilots/{application.id}/midterm", data={"decision": "remove", "reason": "x"}).status_code == 403
    db.session.expire_all()
    assert db.session.execute(select(PilotReport)).scalars().all() == [report]
    # the owner reads it; a second report for the same period is refused
    owner = client_for(app, applicant)
    assert owner.get(f"/pilots/reports/{report.id}").status_code == 200
    assert owner.get(f"/pilots/{application.id}/report?period={report.period.isoformat()}").status_code == 302


@pytest.mark.parametrize(("figures", "message"), [
    ({"a-core.carbon_per_energy.C": "四千"}, "Carbon dioxide per unit of energy used"),
    ({"a-core.carbon_per_energy.E": "0"}, "Carbon dioxide per unit of energy used"),
    ({"a-core.physical_green_power.W": "100"}, "Physically attributed share of non-fossil electricity"),
])
def test_bad_figures_in_a_report_get_a_message_not_an_error(app, db, people, figures, message):
    admin, applicant, _other = people
    application = make_pilot(applicant, admin)
    db.session.commit()
    browser = client_for(app, applicant)
    response = browser.post(f"/pilots/{application.id}/report", headers=EN, data={
        **factory_figures(), **figures, "narrative": "进展说明"})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert message in page and 'class="error"' in page
    assert db.session.execute(select(PilotReport)).first() is None


def test_bad_acceptance_input_gets_a_message_not_an_error(app, db, people):
    admin, applicant, _other = people
    application = make_pilot(applicant, admin, listed_days_ago=400)
    db.session.commit()
    staff = client_for(app, admin)
    # before the mid-term review
    response = staff.post(f"/admin/pilots/{application.id}/acceptance", headers=EN, data={
        "decision": "accept", "emitted": "1000", "energy": "10000", "note": "同意"})
    assert response.status_code == 400 and "mid-term review before" in response.get_data(as_text=True)
    staff.post(f"/admin/pilots/{application.id}/midterm", data={"decision": "continue", "reason": ""})
    for data in ({"decision": "accept", "emitted": "abc", "energy": "10000", "note": "同意"},
                 {"decision": "accept", "emitted": "1000", "energy": "0", "note": "同意"},
                 {"decision": "maybe", "emitted": "1000", "energy": "10000", "note": "同意"},
                 {"decision": "accept", "emitted": "1000", "energy": "10000", "note": ""}):
        response = staff.post(f"/admin/pilots/{application.id}/acceptance", headers=EN, data=data)
        assert response.status_code == 400, data
        assert 'class="error"' in response.get_data(as_text=True), data
    db.session.expire_all()
    assert db.session.execute(select(Pilot)).scalar_one().status == PilotStatus.UNDER_CONSTRUCTION
    # not a pilot: a green factory's application has no pilot page
    listed = factories.listed_application(applicant, admin=admin)
    db.session.commit()
    assert staff.get(f"/admin/pilots/{listed.id}").status_code == 404
