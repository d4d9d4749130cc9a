"""The city bureau's pre-review (市（州）经济和信息化局确认推荐): its queue, its decision with an
opinion, the return to the applicant, and the province waiting for the recommendation."""

import html

import pytest
from sqlalchemy import select

from certify.assessment.assignment import preview_bulk_assignment
from certify.audit.models import AuditEvent
from certify.auth.models import Role, User
from certify.exceptions import ServiceError
from certify.organisations.models import Organisation, OrganisationKind
from certify.tiers import services
from certify.tiers.bureaus import city_bureaus
from certify.workflow import Status
from tests import factories

EN = {"Accept-Language": "en"}


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))
CHENGDU, ZIGONG = "510100", "510300"


@pytest.fixture(autouse=True)
def sichuan_city_review(app, monkeypatch):
    """Sichuan's setting: the bureau pre-reviews factories, parks, products and supply chains."""
    monkeypatch.setitem(app.config, "CERTIFY_CITY_REVIEW_KINDS", ("factory", "park", "product", "supply_chain"))


def applicant_in(city_code):
    organisation = factories.make_organisation(city_code=city_code,
                                               credit_code=factories.credit_code(city_code=city_code))
    return factories.make_user(Role.APPLICANT, organisation=organisation)


def submitted_in(city_code, subject):
    return factories.make_submitted_application(applicant_in(city_code), subject=subject)


def test_the_queue_shows_only_the_bureaus_own_city(client, login_as, db):
    submitted_in(CHENGDU, "成都的供应链")
    submitted_in(ZIGONG, "自贡的供应链")
    login_as(factories.make_city_user(CHENGDU))
    page = text(client.get("/city", headers=EN))
    assert "成都的供应链" in page and "自贡的供应链" not in page


def test_another_citys_bureau_cannot_open_the_application(client, login_as, db):
    application = submitted_in(CHENGDU, "成都的供应链")
    login_as(factories.make_city_user(ZIGONG))
    assert client.get(f"/city/applications/{application.id}").status_code == 404
    assert client.get(f"/applications/{application.id}").status_code == 404
    response = client.post(f"/city/applications/{application.id}", data={"opinion": "同意推荐", "recommend": "1"})
    assert response.status_code == 404
    assert services.reviews_of(application) == []


def test_the_bureau_recommends_with_its_opinion_and_the_province_may_then_assign(client, login_as, db):
    application = submitted_in(CHENGDU, "成都的供应链")
    admin = factories.make_user(Role.ADMIN)
    with pytest.raises(ServiceError, match="尚未经市（州）经济和信息化局确认推荐"):
        factories.assign(application, factories.make_assessor(), admin=admin)
    bureau_user = login_as(factories.make_city_user(CHENGDU))
    page = text(client.get(f"/city/applications/{application.id}", headers=EN))
    assert "营业执照.pdf" in page and "Recommend to the province" in page

    response = client.post(f"/city/applications/{application.id}",
                           data={"opinion": "经核实，申报材料真实，同意推荐。", "recommend": "1"}, headers=EN)
    assert response.status_code == 302
    event = db.session.execute(select(AuditEvent).where(AuditEvent.action == "application.city_recommended")).scalar_one()
    assert (event.actor_id, event.object_id) == (bureau_user.id, str(application.id))
    assert event.details["opinion"] == "经核实，申报材料真实，同意推荐。"
    queue, latest = text(client.get("/city", headers=EN)).split("The bureau's latest decisions")
    assert "成都的供应链" not in queue and "成都的供应链" in latest  # out of the queue, among the decisions

    db.session.refresh(application)
    factories.assign(application, factories.make_assessor(), admin=admin)
    assert application.status == Status.ASSIGNED


def test_the_opinion_is_required(client, login_as, db):
    application = submitted_in(CHENGDU, "成都的供应链")
    login_as(factories.make_city_user(CHENGDU))
    response = client.post(f"/city/applications/{application.id}", data={"opinion": "  ", "recommend": "1"}, headers=EN)
    assert response.status_code == 200 and "Write the bureau's opinion." in text(response)
    assert services.reviews_of(application) == []


def test_a_return_makes_the_application_a_draft_and_the_applicant_reads_the_opinion(client, login_as, db):
    application = submitted_in(CHENGDU, "成都的供应链")
    applicant = application.created_by
    login_as(factories.make_city_user(CHENGDU))
    client.post(f"/city/applications/{application.id}",
                data={"opinion": "请补充近三年能源审计报告。", "send_back": "1"}, headers=EN)
    db.session.refresh(application)
    assert application.status == Status.DRAFT
    client.post("/logout")
    login_as(applicant)
    page = text(client.get(f"/applications/{application.id}", headers=EN))
    assert "City bureau's pre-review" in page and "请补充近三年能源审计报告。" in page
    assert "Returned by the department" not in page  # the opinion is the bureau's, not the department's


def test_the_provinces_page_says_it_waits_then_shows_the_bureaus_opinion(client, login_as, db):
    application = submitted_in(CHENGDU, "成都的供应链")
    admin = factories.make_user(Role.ADMIN)
    login_as(admin)
    page = text(client.get(f"/applications/{application.id}", headers=EN))
    assert "Awaiting the city bureau's recommendation" in page
    services.recommend_application(factories.make_city_user(CHENGDU), application, "同意推荐。")
    db.session.commit()
    page = text(client.get(f"/applications/{application.id}", headers=EN))
    assert "Awaiting the city bureau" not in page
    assert "Recommended to the province" in page and "同意推荐。" in page


def test_the_bulk_assignment_leaves_out_what_the_bureau_has_not_recommended(db):
    waiting = submitted_in(CHENGDU, "待推荐")
    recommended = submitted_in(CHENGDU, "已推荐")
    services.recommend_application(factories.make_city_user(CHENGDU), recommended, "同意推荐。")
    lines = preview_bulk_assignment([waiting, recommended], lead=factories.make_assessor())
    assert [line.ok for line in lines] == [False, True]
    assert "尚未经市（州）经济和信息化局确认推荐" in str(lines[0].reasons[0])


def test_kinds_not_configured_go_straight_to_the_province(app, monkeypatch, db):
    monkeypatch.setitem(app.config, "CERTIFY_CITY_REVIEW_KINDS", ())
    application = submitted_in(CHENGDU, "成都的供应链")
    factories.assign(application, factories.make_assessor())
    assert application.status == Status.ASSIGNED


def test_a_recommendation_does_not_stand_for_a_later_submission(app, db):
    application = submitted_in(CHENGDU, "成都的供应链")
    bureau = factories.make_city_user(CHENGDU)
    services.recommend_application(bureau, application, "同意推荐。")
    with app.test_request_context():
        from certify.applications import services as applications

        applications.return_application(factories.make_user(Role.ADMIN), application, note="请补充材料。")
        applications.submit_application(application.created_by, application,
                                        pledge_name=application.created_by.name, pledge_accepted=True)
    assert application in services.city_queue(bureau)


def test_the_bureaus_are_made_once_for_the_21_cities(app, db):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["tiers", "cities"])
    assert "21 city bureaus created." in first.output
    assert "510100 成都市经济和信息化局" in first.output
    assert "513400 凉山彝族自治州经济和信息化局" in first.output
    assert "0 city bureaus created." in runner.invoke(args=["tiers", "cities"]).output
    assert len(city_bureaus()) == 21
    # The department stays the first authority, to which administrators belong.
    department = db.session.execute(select(Organisation).where(Organisation.kind == OrganisationKind.AUTHORITY)
                                    .order_by(Organisation.id).limit(1)).scalar_one()
    assert department.name == "四川省经济和信息化厅"


def test_an_administrator_creates_a_city_bureau_account(client, login_as, db):
    factories.make_city_user(ZIGONG)  # the bureaus exist
    zigong = next(b for b in city_bureaus() if b.city_code == ZIGONG)
    login_as(factories.make_user(Role.ADMIN))
    response = client.post("/admin/users/new", data={"role": "city", "organisation_id": zigong.id,
                                                      "name": "自贡经信", "email": "zg@example.com"}, headers=EN)
    assert response.status_code == 302
    user = db.session.execute(select(User).where(User.email == "zg@example.com")).scalar_one()
    assert (user.role, user.organisation_id) == (Role.CITY, zigong.id)
    # A city bureau account must belong to a bureau, not to an agency or the department.
    response = client.post("/admin/users/new", data={"role": "city", "organisation_id": 0,
                                                      "name": "无", "email": "none@example.com"}, headers=EN)
    assert "Choose the city's bureau." in text(response)


def test_the_bureaus_workbench_is_its_queue(client, login_as, db):
    login_as(factories.make_city_user(CHENGDU))
    response = client.get("/workbench")
    assert response.status_code == 302 and response.headers["Location"].endswith("/city")


def test_the_administrators_list_marks_what_waits_for_the_city_bureau(client, login_as, db):
    waiting = submitted_in(CHENGDU, "待推荐的供应链")
    recommended = submitted_in(CHENGDU, "已推荐的供应链")
    services.recommend_application(factories.make_city_user(CHENGDU), recommended, "同意推荐。")
    login_as(factories.make_user(Role.ADMIN))
    page = text(client.get("/admin/applications", headers=EN))
    rows = {subject: row for row in page.split("<tr") for subject in (waiting.subject, recommended.subject)
            if subject in row}
    assert "awaiting the city bureau's recommendation" in rows[waiting.subject]
    assert "awaiting the city bureau's recommendation" not in rows[recommended.subject]


def test_city_bureau_accounts_are_listed_with_their_role(client, login_as, db):
    factories.make_city_user(CHENGDU, name="成都经信初审员")
    login_as(factories.make_user(Role.ADMIN))
    page = text(client.get("/admin/users?role=city", headers=EN))
    assert "成都经信初审员" in page and "City bureau (pre-review)" in page


def test_a_city_bureau_user_must_set_up_the_second_factor_when_staff_must(app, monkeypatch, db):
    from certify.auth.services import second_factor_required

    monkeypatch.setitem(app.config, "CERTIFY_REQUIRE_TOTP_FOR_STAFF", True)
    assert second_factor_required(factories.make_city_user(CHENGDU))


def test_the_assignment_page_says_why_it_waits_for_the_city_bureau(client, login_as, db):
    application = submitted_in(CHENGDU, "成都的供应链")
    lead = factories.make_assessor()
    login_as(factories.make_user(Role.ADMIN))
    response = client.post(f"/assessment/applications/{application.id}", headers=EN,
                           data={"lead_id": lead.id, "second_id": 0}, follow_redirects=True)
    assert "The city bureau has not recommended this application yet" in text(response)
    db.session.refresh(application)
    assert application.status == Status.SUBMITTED
