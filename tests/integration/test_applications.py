"""An applicant prepares an application over several sittings and submits it."""

import re

import pytest
from sqlalchemy import func, select

from certify.applications.models import Application
from certify.audit.models import AuditEvent
from certify.organisations.models import OrganisationKind
from certify.scoring import load
from certify.workflow import Status
from tests import factories

EN = {"Accept-Language": "en"}


def test_opening_an_application_pins_the_rule_set_in_force(client, login_as, db, app):
    user = login_as("applicant")
    response = client.post("/applications/new", data={"kind": "factory", "subject": "攀枝花一号生产基地"})
    assert response.status_code == 302
    application = db.session.execute(select(Application)).scalar_one()
    file_rule_set = load(app.config["CRITERIA_DIR"] + "/factory-gbt-36132-2025.yaml")  # in force since 2025-12-31
    assert (application.rule_set_id, application.rule_set_version, application.rule_set_sha256) == (
        file_rule_set.id, file_rule_set.version, file_rule_set.sha256)
    assert application.rule_set_frozen == file_rule_set.to_dict()
    assert application.organisation_id == user.organisation_id
    assert application.status == Status.DRAFT
    assert application.industry_code == user.organisation.industry_code
    event = db.session.execute(select(AuditEvent).where(AuditEvent.action == "application.opened")).scalar_one()
    assert event.details["rule_set"]["sha256"] == file_rule_set.sha256


def test_a_product_application_uses_the_chosen_product_rules(client, login_as, db):
    login_as("applicant")
    response = client.post("/applications/new", data={
        "kind": "product", "subject": "KFR-35GW 空调", "rule_set_id": "product-room-air-conditioner-tcagp-0001-2016"})
    assert response.status_code == 302
    application = db.session.execute(select(Application)).scalar_one()
    assert application.rule_set_id == "product-room-air-conditioner-tcagp-0001-2016"


def test_a_product_application_without_product_rules_is_refused(client, login_as, db):
    login_as("applicant")
    response = client.post("/applications/new", data={"kind": "product", "subject": "空调"}, headers=EN)
    assert "Choose the product" in response.get_data(as_text=True)
    assert db.session.execute(select(Application)).first() is None


@pytest.mark.parametrize("organisation_kind, kind, allowed", [
    (OrganisationKind.ENTERPRISE, "factory", True),
    (OrganisationKind.ENTERPRISE, "supply_chain", True),
    (OrganisationKind.ENTERPRISE, "park", False),
    (OrganisationKind.PARK_COMMITTEE, "park", True),
    (OrganisationKind.PARK_COMMITTEE, "factory", False),
])
def test_each_kind_of_organisation_applies_only_for_its_kinds(client, login_as, db, organisation_kind, kind, allowed):
    organisation = factories.make_organisation(organisation_kind)
    login_as(factories.make_user("applicant", organisation=organisation))
    client.post("/applications/new", data={"kind": kind, "subject": "对象"})
    assert (db.session.execute(select(Application)).first() is not None) == allowed


@pytest.mark.parametrize("role", ["assessor", "admin"])
def test_only_applicants_open_applications(client, login_as, db, role):
    login_as(role)
    assert client.get("/applications/new").status_code == 403


@pytest.mark.parametrize("kind", ["factory", "supply_chain", "park", "product"])
@pytest.mark.parametrize("language", ["zh", "en"])
def test_every_self_assessment_page_renders(client, login_as, db, kind, language):
    organisation = factories.make_organisation(
        OrganisationKind.PARK_COMMITTEE if kind == "park" else OrganisationKind.ENTERPRISE)
    user = login_as(factories.make_user("applicant", organisation=organisation))
    extra = {"rule_set_id": "product-gbt-32161-2015"} if kind == "product" else {}
    application = factories.make_application(user, kind=kind, **extra)
    db.session.commit()
    overview = client.get(f"/applications/{application.id}", headers={"Accept-Language": language})
    assert overview.status_code == 200
    page_ids = re.findall(rf"/applications/{application.id}/sections/([^\"]+)\"", overview.get_data(as_text=True))
    assert page_ids
    for page_id in dict.fromkeys(page_ids):
        page = client.get(f"/applications/{application.id}/sections/{page_id}",
                          headers={"Accept-Language": language})
        assert page.status_code == 200, page_id


def _page(client, application, page_id, data, **kwargs):
    return client.post(f"/applications/{application.id}/sections/{page_id}",
                       data={"version": application.version, **data}, **kwargs)


def test_answers_are_saved_and_scored_by_the_engine(client, login_as, db):
    user = login_as("applicant")
    application = factories.make_application(user)
    db.session.commit()
    response = _page(client, application, "strategy", {"a-X11": "8", "a-X12": "3", "r-X11": "已纳入“十四五”规划"})
    assert response.status_code == 302
    assert application.answers == {"X11": "8", "X12": "3"}
    assert application.remarks == {"X11": "已纳入“十四五”规划"}
    # 8 + 3 = 11 points of the supply-chain rule set, by the engine's own reckoning.
    assert application.self_score_total == 11
    overview = client.get(f"/applications/{application.id}", headers=EN).get_data(as_text=True)
    assert "11.00" in overview


def test_a_wrong_answer_is_shown_back_and_the_rest_is_saved(client, login_as, db):
    user = login_as("applicant")
    application = factories.make_application(user)
    db.session.commit()
    response = _page(client, application, "strategy", {"a-X11": "7.3", "a-X12": "6"}, headers=EN)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Part of the company&#39;s development plan: choose from 0 to 8 points in steps of 1." in page
    assert application.answers == {"X12": "6"}


def test_a_typed_metric_value_that_is_not_a_number_is_kept_on_the_page(client, login_as, db):
    user = login_as("applicant")
    application = factories.make_application(user)
    db.session.commit()
    response = _page(client, application, "suppliers", {"a-X26": "八十五"}, headers=EN)
    page = response.get_data(as_text=True)
    assert 'value="八十五"' in page
    assert "Share of low-risk suppliers: “八十五” is not a number: write a number such as 12.5." in page
    assert "X26" not in application.answers
    ok = _page(client, application, "suppliers", {"a-X26": "８５.5"})
    assert ok.status_code == 302
    assert application.answers["X26"] == "85.5"
    # the text as typed is kept beside the number, and shown back
    assert application.answer_texts["X26"] == "８５.5"
    assert 'value="８５.5"' in client.get(f"/applications/{application.id}/sections/suppliers").get_data(as_text=True)


def test_the_second_of_two_people_saving_is_told_and_loses_nothing(app, client, login_as, db):
    user = login_as("applicant")
    colleague = factories.make_user("applicant", organisation=user.organisation)
    application = factories.make_application(user)
    db.session.commit()
    opened_version = application.version

    other = app.test_client()
    other.post("/login", data={"email": colleague.email, "password": factories.PASSWORD})
    first = other.post(f"/applications/{application.id}/sections/strategy",
                       data={"version": opened_version, "a-X11": "8"})
    assert first.status_code == 302

    second = client.post(f"/applications/{application.id}/sections/strategy",
                         data={"version": opened_version, "a-X11": "2", "a-X12": "5"}, headers=EN)
    page = second.get_data(as_text=True)
    assert "changed by someone else since you opened it" in page
    assert '<option value="2" selected>' in page  # what this person typed is shown back
    assert application.answers == {"X11": "8"}


def test_submission_is_refused_until_complete_and_lists_what_is_missing(client, login_as, db):
    user = login_as("applicant")
    application = factories.make_application(user)
    db.session.commit()
    page = client.get(f"/applications/{application.id}/submit", headers=EN).get_data(as_text=True)
    assert "Not answered: （二）1 An independent legal person" in page
    response = client.post(f"/applications/{application.id}/submit",
                           data={"pledge_accepted": "y", "pledge_name": "周丽", "version": application.version},
                           headers=EN)
    assert response.status_code == 200
    assert application.status == Status.DRAFT


def test_other_organisations_cannot_see_or_touch_an_application(client, login_as, db):
    owner = factories.make_user("applicant")
    application = factories.make_application(owner)
    db.session.commit()
    login_as("applicant")  # another organisation
    base = f"/applications/{application.id}"
    for path in [base, f"{base}/sections/strategy", f"{base}/submit", f"{base}/submissions/1"]:
        assert client.get(path).status_code == 404, path
    for path in [f"{base}/sections/strategy", f"{base}/submit", f"{base}/withdraw"]:
        assert client.post(path, data={"version": application.version, "a-X11": "8",
                                       "pledge_accepted": "y", "pledge_name": "x"}).status_code == 404, path
    assert application.answers == {} and application.status == Status.DRAFT
    assert owner.organisation.name not in client.get("/applications").get_data(as_text=True)


def test_the_live_self_score_reflects_unsaved_answers_without_saving_them(client, login_as, db):
    user = login_as("applicant")
    application = factories.make_application(user, answers={"X11": "8"})
    db.session.commit()
    response = client.post(f"/applications/{application.id}/sections/strategy/preview",
                           data={"a-X11": "8", "a-X12": "6", "a-X13": "bad"})
    assert response.status_code == 200
    # 8 + 6; the unreadable X13 counts as unanswered
    assert response.json["total"] == "14.00"
    assert response.json["sections"]["strategy"]["score"] == "14.00"
    assert application.answers == {"X11": "8"}
    page = client.get(f"/applications/{application.id}/sections/strategy").get_data(as_text=True)
    assert "js/self-score.js" in page and "data-preview-url" in page


def test_the_score_panel_tells_veto_situations_not_ruled_out_from_requirements_not_met(client, login_as, db):
    committee = factories.make_organisation(OrganisationKind.PARK_COMMITTEE, name="成都经济技术开发区管理委员会")
    user = login_as("applicant", organisation=committee)
    answers = {f"V{n}": False for n in range(1, 6)} | {f"BR{n}": True for n in range(1, 6)}
    application = factories.make_application(user, kind="park", subject="成都经开区", answers=answers)
    db.session.commit()
    page = client.get(f"/applications/{application.id}/sections/MG").get_data(as_text=True)
    vetoes = re.search(r"尚未排除的否决情形：([^<]*)</p>", page).group(1)
    unmet = re.search(r"未满足的必选项：([^<]*)</p>", page).group(1)
    assert vetoes.strip() == "被列为失信被执行人"  # V6 unanswered; V1–V5 answered "absent"
    assert "园区建立履行绿色发展工作职责的专门机构" in unmet and "失信" not in unmet
    # the two encouraged items of the basic-requirements form are recorded without points
    assert "鼓励园区建设并运行风能、太阳能等可再生能源应用设施" in page
    assert "鼓励" not in unmet


def test_a_product_s_numeric_limit_is_stated_beside_the_field_and_a_value_beyond_it_is_named(client, login_as, db):
    user = login_as("applicant")
    application = factories.make_application(user, kind="product", subject="KFR-35GW 空调",
                                             rule_set_id="product-room-air-conditioner-tcagp-0001-2016")
    db.session.commit()
    page = client.get(f"/applications/{application.id}/sections/resource").get_data(as_text=True)
    assert "可再生利用率" in page and "要求：≥ 80 %；未达到即不通过。" in page

    response = _page(client, application, "resource", {"a-resource.recyclability": "79.9", "a-resource.baseline": "yes"})

    assert response.status_code == 302
    assert application.answers["resource.recyclability"] == "79.9"
    page = client.get(f"/applications/{application.id}/sections/resource").get_data(as_text=True)
    unmet = re.search(r"未满足的必选项：([^<]*)</p>", page).group(1)
    assert "可再生利用率" in unmet
    _page(client, application, "resource", {"a-resource.recyclability": "80", "a-resource.baseline": "yes"})
    page = client.get(f"/applications/{application.id}/sections/resource").get_data(as_text=True)
    assert "可再生利用率" not in re.search(r"未满足的必选项：([^<]*)</p>", page).group(1)


def test_a_second_application_for_the_same_subject_asks_first(client, login_as, db):
    user = login_as("applicant")
    first = factories.make_application(user, kind="supply_chain", subject="成都 绿色供应链")
    db.session.commit()
    form = {"kind": "supply_chain", "subject": "成都绿色供应链", "subject_detail": ""}
    page = client.post("/applications/new", data=form, headers=EN).get_data(as_text=True)
    assert "Your organisation already has an application for this" in page and first.reference in page
    assert db.session.execute(select(func.count()).select_from(Application)).scalar_one() == 1
    assert client.post("/applications/new", data=form | {"confirm": "1"}).status_code == 302
    assert db.session.execute(select(func.count()).select_from(Application)).scalar_one() == 2


def test_rules_without_points_say_so_instead_of_a_zero_score(client, login_as, db):
    user = login_as("applicant")
    application = factories.make_application(user, kind="product", subject="节能空调 KFR-35",
                                             rule_set_id="product-gbt-32161-2015")
    db.session.commit()
    for path in (f"/applications/{application.id}", f"/applications/{application.id}/submit",
                 f"/applications/{application.id}/sections/resource"):
        page = client.get(path, headers=EN).get_data(as_text=True)
        assert "0.00 / 0.00" not in page and "0.00 of 0.00" not in page, path
    assert "These rules give no points" in client.get(f"/applications/{application.id}", headers=EN).get_data(as_text=True)
