"""The admin console: staff accounts, deactivation, the mail log."""

import pytest
from sqlalchemy import select

from certify.audit.models import AuditEvent
from certify.auth.models import Role, User
from certify.mail.models import MailMessage
from certify.organisations.models import OrganisationKind
from tests import factories

ADMIN_PAGES = ["/admin/", "/admin/users", "/admin/users/new", "/admin/mail"]


@pytest.mark.parametrize("path", ADMIN_PAGES)
@pytest.mark.parametrize("role", ["applicant", "assessor"])
def test_only_administrators_reach_the_console(client, login_as, path, role):
    login_as(role)
    assert client.get(path).status_code == 403


@pytest.mark.parametrize("path", ADMIN_PAGES)
def test_visitors_are_sent_to_the_login_page(client, db, path):
    response = client.get(path)
    assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize("path", ADMIN_PAGES)
def test_administrators_see_every_console_page(client, login_as, path):
    login_as("admin")
    assert client.get(path).status_code == 200


def test_an_admin_creates_an_assessor_who_receives_a_link(client, login_as, db, outbox):
    admin = login_as("admin")
    agency = factories.make_organisation(OrganisationKind.AGENCY, name="测试评价机构")
    db.session.commit()
    response = client.post("/admin/users/new", data={
        "role": "assessor", "organisation_id": agency.id, "name": "评价员甲",
        "email": "Assessor.A@example.com"})
    assert response.status_code == 302
    assessor = db.session.execute(select(User).where(User.email == "assessor.a@example.com")).scalar_one()
    assert assessor.role == Role.ASSESSOR and assessor.organisation_id == agency.id
    assert assessor.password_hash is None
    mail = db.session.execute(select(MailMessage).where(MailMessage.recipient == assessor.email)).scalar_one()
    # The link reached the assessor; the mail log keeps the message without it.
    [delivered] = [message for message in outbox if message.recipient == assessor.email]
    assert "/password/set/" in delivered.body and "/password/set/" not in mail.body
    event = db.session.execute(select(AuditEvent).where(AuditEvent.action == "user.created")).scalar_one()
    assert event.actor_id == admin.id and event.object_id == str(assessor.id)


def test_an_assessor_must_belong_to_an_agency(client, login_as, db):
    login_as("admin")
    response = client.post("/admin/users/new", data={
        "role": "assessor", "organisation_id": 0, "name": "评价员乙", "email": "b@example.com"},
        headers={"Accept-Language": "en"})
    assert response.status_code == 200
    assert "Choose the assessor" in response.get_data(as_text=True)
    assert db.session.execute(select(User).where(User.email == "b@example.com")).first() is None


def test_deactivating_a_user_ends_their_session_at_once(app, client, login_as, db):
    victim = factories.make_user("applicant")
    db.session.commit()
    victim_client = app.test_client()
    victim_client.post("/login", data={"email": victim.email, "password": factories.PASSWORD})
    assert victim_client.get("/account/password").status_code == 200

    login_as("admin")
    response = client.post(f"/admin/users/{victim.id}/active", data={"active": "0"})
    assert response.status_code == 302
    assert victim.is_active is False
    assert victim_client.get("/account/password").status_code == 302
    actions = db.session.execute(select(AuditEvent.action)).scalars().all()
    assert "user.deactivated" in actions


def test_an_admin_cannot_deactivate_themselves(client, login_as, db):
    admin = login_as("admin")
    client.post(f"/admin/users/{admin.id}/active", data={"active": "0"})
    assert admin.is_active is True


def test_the_mail_log_shows_messages_sent_without_smtp(client, login_as, db):
    factories.make_user(email="someone@example.com")
    db.session.commit()
    client.post("/password/forgot", data={"email": "someone@example.com"})
    login_as("admin")
    log = client.get("/admin/mail").get_data(as_text=True)
    message = db.session.execute(select(MailMessage)).scalar_one()
    assert "someone@example.com" in log
    detail = client.get(f"/admin/mail/{message.id}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    # Administrators read what went out, but never a live link into someone else's account.
    assert "/password/set/" not in detail and "〔个人专用链接，不在邮件日志中保存〕" in detail


def test_the_user_list_filters_by_role_and_search(client, login_as, db):
    login_as("admin")
    factories.make_user("assessor", name="专家张三")
    factories.make_user("applicant", name="申报李四")
    db.session.commit()
    page = client.get("/admin/users?role=assessor").get_data(as_text=True)
    assert "专家张三" in page and "申报李四" not in page
    page = client.get("/admin/users?q=李四").get_data(as_text=True)
    assert "申报李四" in page and "专家张三" not in page


@pytest.mark.parametrize("path", ["/admin/organisations", "/admin/rule-sets", "/admin/audit"])
def test_console_pages_for_organisations_rule_files_and_the_audit_log(client, login_as, path):
    login_as("admin")
    assert client.get(path, headers={"Accept-Language": "en"}).status_code == 200


def test_an_admin_corrects_an_organisation_and_the_change_is_audited(client, login_as, db):
    admin = login_as("admin")
    organisation = factories.make_organisation(name="旧名称有限公司")
    db.session.commit()
    response = client.post(f"/admin/organisations/{organisation.id}", data={
        "name": "新名称有限公司", "city_code": "510700", "industry_code": "3011 水泥制造", "address": "绵阳",
        "contact_name": "", "contact_phone": ""})
    assert response.status_code == 302
    assert organisation.name == "新名称有限公司" and organisation.city_code == "510700"
    assert organisation.industry_code == "3011"
    event = db.session.execute(select(AuditEvent).where(AuditEvent.action == "organisation.updated")).scalar_one()
    assert event.actor_id == admin.id
    assert event.details["name"] == {"from": "旧名称有限公司", "to": "新名称有限公司"}
    assert event.details["industry_code"] == {"from": "3120", "to": "3011"}


@pytest.mark.parametrize(("typed", "shown"), [
    ("31", "31 黑色金属冶炼和压延加工业"),  # a division: the class is needed
    ("31abc", "31abc"), ("9999", "9999"), ("炼钢厂", "炼钢厂")])
def test_an_industry_that_is_not_a_class_of_gb_t_4754_is_refused_beside_the_field(client, login_as, db, typed, shown):
    login_as("admin")
    organisation = factories.make_organisation(name="某钢铁有限公司")
    db.session.commit()
    response = client.post(f"/admin/organisations/{organisation.id}", data={
        "name": "某钢铁有限公司", "city_code": "510100", "industry_code": typed, "address": "",
        "contact_name": "", "contact_phone": ""})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "请从列表中选择国民经济行业分类（GB/T 4754-2017）的小类" in page
    assert f'value="{shown}"' in page  # what was typed is shown back
    db.session.refresh(organisation)
    assert organisation.industry_code == "3120"


def test_the_industry_picker_offers_every_class_by_code_and_name(client, login_as, db):
    login_as("admin")
    organisation = factories.make_organisation(name="某钢铁有限公司")
    db.session.commit()
    page = client.get(f"/admin/organisations/{organisation.id}").get_data(as_text=True)
    assert 'list="industry-classes"' in page and 'value="3120 炼钢"' in page
    assert page.count("<option value=\"") >= 1382
    assert 'value="3211 铜冶炼"' in page and 'value="2231 纸和纸板容器制造"' in page


def test_deactivating_an_organisation_stops_its_users(app, client, login_as, db):
    member = factories.make_user("applicant")
    db.session.commit()
    member_client = app.test_client()
    member_client.post("/login", data={"email": member.email, "password": factories.PASSWORD})
    login_as("admin")
    client.post(f"/admin/organisations/{member.organisation_id}/active", data={"active": "0"})
    assert member_client.get("/account/colleagues").status_code == 302
    again = app.test_client().post("/login", data={"email": member.email, "password": factories.PASSWORD})
    assert again.status_code == 200


def test_the_audit_log_filters_and_verifies_its_chain(client, login_as, db):
    admin = login_as("admin")
    factories.make_organisation(name="被审计的组织")
    db.session.commit()
    page = client.get("/admin/audit?action=user.logged_in", headers={"Accept-Language": "en"})
    text = page.get_data(as_text=True)
    assert "user.logged_in" in text and "organisation.created" not in text
    assert "Verified" not in text  # no verification has run yet
    answer = client.post("/admin/audit/verify", headers={"Accept-Language": "en"}, follow_redirects=True)
    assert "The chain is being verified" in answer.get_data(as_text=True)
    text = client.get("/admin/audit", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "the chain holds" in text  # the job ran inline after the commit
    by_actor = client.get(f"/admin/audit?actor={admin.email}").get_data(as_text=True)
    assert "user.logged_in" in by_actor


def test_a_verification_of_the_chain_reports_a_changed_event_and_is_audited(client, login_as, db):
    from sqlalchemy import select, update

    from certify.audit.models import AuditEvent

    admin = login_as("admin")
    factories.make_organisation(name="被审计的组织")
    db.session.commit()
    changed = db.session.execute(select(AuditEvent.id).order_by(AuditEvent.id).limit(1)).scalar_one()
    db.session.execute(update(AuditEvent).where(AuditEvent.id == changed).values(details={"forged": True}))
    db.session.commit()
    client.post("/admin/audit/verify")
    text = client.get("/admin/audit", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "the chain is broken, 1 problems" in text and f"#{changed}:" in text
    actions = db.session.execute(select(AuditEvent.action, AuditEvent.actor_id).order_by(AuditEvent.id.desc()).limit(2)).all()
    assert [tuple(row) for row in actions] == [("audit.chain_verified", None), ("audit.verification_requested", admin.id)]


def test_the_rule_file_page_counts_applications_per_version(client, login_as, db):
    login_as("admin")
    factories.make_application()
    db.session.commit()
    page = client.get("/admin/rule-sets").get_data(as_text=True)
    assert "supply-chain-miit-2016" in page and "<td>1</td>" in page
