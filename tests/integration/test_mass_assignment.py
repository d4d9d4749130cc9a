"""Extra fields posted to forms (status, score, organisation, role) change nothing protected."""

from sqlalchemy import select

from certify.applications.models import Application
from certify.auth.models import Role, User
from certify.workflow import Status
from tests import factories

EXTRA = {"status": "listed", "role": "admin", "organisation_id": "1", "self_score_total": "100",
         "is_active": "0", "version": "1", "rule_set_id": "park-miit-2016", "credit_code": "X"}


def test_registration_ignores_a_posted_role(client, db):
    client.post("/register", data={**EXTRA, "kind": "enterprise", "organisation_name": "字段测试公司",
                                   "credit_code": factories.credit_code(), "city_code": "510100",
                                   "industry_code": "3011", "name": "甲", "email": "a@example.com",
                                   "password": "long enough password", "confirm_password": "long enough password"})
    user = db.session.execute(select(User)).scalar_one()
    assert user.role == Role.APPLICANT and user.is_active


def test_opening_an_application_ignores_posted_owner_status_and_rules(client, login_as, db):
    user = login_as("applicant")
    other = factories.make_organisation()
    db.session.commit()
    client.post("/applications/new", data={**EXTRA, "organisation_id": other.id, "kind": "supply_chain",
                                           "subject": "供应链"})
    application = db.session.execute(select(Application)).scalar_one()
    assert application.organisation_id == user.organisation_id
    assert application.status == Status.DRAFT
    assert application.rule_set_id == "supply-chain-miit-2016"


def test_saving_answers_ignores_posted_status_and_score(client, login_as, db):
    user = login_as("applicant")
    application = factories.make_application(user)
    db.session.commit()
    client.post(f"/applications/{application.id}/sections/strategy",
                data={**EXTRA, "version": application.version, "a-X11": "2"})
    assert application.status == Status.DRAFT
    assert application.self_score_total == 2
    assert application.organisation_id == user.organisation_id


def test_inviting_a_colleague_ignores_a_posted_role(client, login_as, db):
    login_as("applicant")
    client.post("/account/colleagues", data={**EXTRA, "name": "乙", "email": "b@example.com"})
    invited = db.session.execute(select(User).where(User.email == "b@example.com")).scalar_one()
    assert invited.role == Role.APPLICANT


def test_an_admin_editing_an_organisation_cannot_change_its_credit_code_or_kind(client, login_as, db):
    login_as("admin")
    organisation = factories.make_organisation()
    code = organisation.credit_code
    db.session.commit()
    client.post(f"/admin/organisations/{organisation.id}", data={
        **EXTRA, "kind": "authority", "credit_code": factories.credit_code(), "name": "改名公司",
        "city_code": "510100", "industry_code": "3120"})
    assert organisation.credit_code == code and organisation.kind.value == "enterprise"
    assert organisation.name == "改名公司"
