"""Applicants register their organisation and first user; the mailed link proves the address,
and the answer never tells whether an address already has an account."""

import re
from datetime import timedelta

from sqlalchemy import select, update

from certify.audit.models import AuditEvent
from certify.auth.models import Role, User
from certify.organisations.models import Organisation, OrganisationKind
from certify.timeutil import utcnow
from tests import factories

EN = {"Accept-Language": "en"}
CSRF_TOKEN = re.compile(r'name="csrf_token" value="[^"]*"')


def registration(**overrides) -> dict:
    data = {
        "kind": "enterprise",
        "organisation_name": "成都锦江绿色制造有限公司",
        "credit_code": factories.credit_code(),
        "city_code": "510100",
        "industry_code": "3011",
        "address": "成都市锦江区",
        "contact_name": "周丽",
        "contact_phone": "028-12345678",
        "name": "周丽",
        "email": "Zhou.Li@Example.com",
        "password": "a long enough password",
        "confirm_password": "a long enough password",
    }
    return data | overrides


def mails_to(outbox, recipient: str) -> list:
    """The messages delivered to ``recipient``, whole (the mail log keeps personal links hidden)."""
    return [message for message in outbox if message.recipient == recipient]


def link_in(message) -> str:
    """The path of the (first) link in a mail."""
    return "/" + re.search(r"https?://\S+", message.body).group(0).split("/", 3)[3]


def actions(db) -> list[str]:
    return db.session.execute(select(AuditEvent.action).order_by(AuditEvent.id)).scalars().all()


def test_an_enterprise_registers_confirms_by_the_mailed_link_and_is_logged_in(client, db, outbox):
    data = registration()
    response = client.post("/register", data=data)
    assert response.status_code == 302 and response.headers["Location"] == "/register/sent"
    sent = client.get("/register/sent", headers=EN).get_data(as_text=True)
    assert "Check your e-mail" in sent and "within 48 hours" in sent

    user = db.session.execute(select(User)).scalar_one()
    assert user.email == "zhou.li@example.com" and user.role == Role.APPLICANT
    assert user.organisation.kind == OrganisationKind.ENTERPRISE
    assert user.organisation.credit_code == data["credit_code"]
    assert user.email_confirmed_at is None
    # Not before the link is followed, even with the right password.
    refused = client.post("/login", data={"email": data["email"], "password": data["password"]},
                          headers=EN)
    assert refused.status_code == 200 and "Finish the registration first" in refused.get_data(as_text=True)

    [mail] = mails_to(outbox, "zhou.li@example.com")
    assert "成都锦江绿色制造有限公司" in mail.body
    link = link_in(mail)
    page = client.get(link, headers=EN).get_data(as_text=True)
    assert "成都锦江绿色制造有限公司" in page and "Confirm and log in" in page
    assert user.email_confirmed_at is None  # opening the link changes nothing
    confirmed = client.post(link)
    assert confirmed.status_code == 302 and confirmed.headers["Location"] == "/workbench"
    assert "周丽" in client.get("/").get_data(as_text=True)
    assert user.email_confirmed_at is not None
    assert actions(db) == ["organisation.created", "user.registered", "user.login_failed",
                           "user.registration_confirmed"]

    client.post("/logout")
    again = client.get(link, headers=EN)
    assert again.status_code == 400 and "already confirmed" in again.get_data(as_text=True)
    assert client.post("/login", data={"email": data["email"], "password": data["password"]}).status_code == 302


def test_a_known_address_gets_the_same_answer_and_its_holder_a_warning(client, db, outbox):
    holder = factories.make_user(email="zhou.li@example.com", name="周丽", preferred_language="en")
    db.session.commit()
    known = client.post("/register", data=registration(email="ZHOU.LI@example.com"), follow_redirects=True)
    new = client.post("/register", data=registration(email="wang.qiang@example.com"), follow_redirects=True)
    assert known.status_code == new.status_code == 200
    strip = lambda page: CSRF_TOKEN.sub("", page.get_data(as_text=True))  # noqa: E731
    assert strip(known) == strip(new)

    # Nothing of the attempt is kept; the holder is told, and shown the way in.
    names = db.session.execute(select(Organisation.name)).scalars().all()
    assert names.count("成都锦江绿色制造有限公司") == 1  # the new address's registration only
    [warning] = mails_to(outbox, "zhou.li@example.com")
    assert warning.subject == "Someone tried to register with your address"
    assert "http://certify.test/login" in warning.body and "http://certify.test/password/forgot" in warning.body
    assert holder.email_confirmed_at is not None and holder.organisation.name != "成都锦江绿色制造有限公司"
    event = db.session.execute(select(AuditEvent).where(
        AuditEvent.action == "user.registration_attempted")).scalar_one()
    assert event.object_id == str(holder.id)


def test_a_duplicate_credit_code_is_refused_alike_for_known_and_new_addresses(client, db, outbox):
    existing = factories.make_organisation()
    factories.make_user(email="known@example.com")
    db.session.commit()
    pages = []
    for email in ("known@example.com", "someone.new@example.com"):
        response = client.post("/register", data=registration(credit_code=existing.credit_code.lower(), email=email),
                               headers=EN)
        assert response.status_code == 200
        pages.append(CSRF_TOKEN.sub("", response.get_data(as_text=True)).replace(email, ""))
    assert "already registered" in pages[0] and pages[0] == pages[1]
    assert db.session.execute(select(User).where(User.email == "someone.new@example.com")).first() is None
    assert mails_to(outbox, "known@example.com") == []


def test_registering_again_replaces_an_unconfirmed_registration(client, db, outbox):
    data = registration()
    client.post("/register", data=data)
    client.post("/register", data=data | {"organisation_name": "成都锦江绿色制造股份有限公司"})
    first, second = mails_to(outbox, "zhou.li@example.com")
    assert client.get(link_in(first), headers=EN).status_code == 400  # only the newest link works
    assert client.post(link_in(second)).status_code == 302
    organisation = db.session.execute(select(Organisation)).scalar_one()
    assert organisation.name == "成都锦江绿色制造股份有限公司"
    removed = db.session.execute(select(AuditEvent.details).where(
        AuditEvent.action == "user.registration_removed")).scalar_one()
    assert removed["reason"] == "registered again"


def test_an_unconfirmed_registration_expires_and_frees_its_address_and_credit_code(client, db, outbox):
    data = registration()
    client.post("/register", data=data)
    [link] = [link_in(mail) for mail in mails_to(outbox, "zhou.li@example.com")]
    db.session.execute(update(User).values(created_at=utcnow() - timedelta(hours=49)))
    db.session.commit()

    # Someone else registers the same organisation: the expired registration is gone.
    client.post("/register", data=data | {"email": "liu.min@example.com", "name": "刘敏"})
    users = db.session.execute(select(User.email)).scalars().all()
    assert users == ["liu.min@example.com"]
    assert db.session.execute(select(Organisation.credit_code)).scalars().all() == [data["credit_code"]]
    removed = db.session.execute(select(AuditEvent.details).where(
        AuditEvent.action == "user.registration_removed")).scalar_one()
    assert removed == removed | {"email": "zhou.li@example.com", "reason": "expired"}
    assert client.get(link, headers=EN).status_code == 400


def test_an_expired_link_says_so(app, client, db, outbox):
    client.post("/register", data=registration())
    [mail] = mails_to(outbox, "zhou.li@example.com")
    app.config["CERTIFY_REGISTRATION_CONFIRM_HOURS"] = -1
    try:
        response = client.get(link_in(mail), headers=EN)
    finally:
        app.config["CERTIFY_REGISTRATION_CONFIRM_HOURS"] = 48
    assert response.status_code == 400 and "expired" in response.get_data(as_text=True)
    assert 'href="/register"' in response.get_data(as_text=True)


def test_a_forged_link_confirms_nothing(client, db):
    client.post("/register", data=registration())
    assert client.post("/register/confirm/not-a-token").status_code == 400
    assert db.session.execute(select(User.email_confirmed_at)).scalar_one() is None


def test_one_address_receives_at_most_three_registration_mails_an_hour(client, db, outbox):
    factories.make_user(email="known@example.com")
    db.session.commit()
    statuses = {}
    for email in ("known@example.com", "new@example.com"):
        statuses[email] = [client.post("/register", data=registration(email=email)).status_code
                           for _ in range(4)]
    # The same for an address with an account and one without: nothing is revealed.
    assert statuses == {"known@example.com": [302, 302, 302, 429], "new@example.com": [302, 302, 302, 429]}
    assert len(mails_to(outbox, "known@example.com")) == len(mails_to(outbox, "new@example.com")) == 3


def test_a_mistyped_credit_code_is_explained_and_the_typed_values_are_kept(client, db):
    data = registration()
    broken = data["credit_code"][:-1] + ("0" if data["credit_code"][-1] != "0" else "1")
    response = client.post("/register", data=registration(credit_code=broken),
                           headers=EN)
    page = response.get_data(as_text=True)
    assert "check character" in page
    assert "成都锦江绿色制造有限公司" in page  # nothing typed is lost
    assert db.session.execute(select(Organisation)).first() is None


def test_an_enterprise_must_name_its_industry(client, db):
    response = client.post("/register", data=registration(industry_code=""),
                           headers=EN)
    assert "Choose the enterprise" in response.get_data(as_text=True)
    assert db.session.execute(select(User)).first() is None


def test_a_park_committee_registers_without_an_industry(client, db):
    response = client.post("/register", data=registration(kind="park_committee", industry_code=""))
    assert response.status_code == 302
    organisation = db.session.execute(select(Organisation)).scalar_one()
    assert organisation.kind == OrganisationKind.PARK_COMMITTEE


def test_a_city_outside_sichuan_is_refused(client, db):
    response = client.post("/register", data=registration(city_code="110100"),
                           headers=EN)
    assert response.status_code == 200
    assert db.session.execute(select(User)).first() is None


def test_agencies_cannot_register_themselves(client, db):
    response = client.post("/register", data=registration(kind="agency"))
    assert response.status_code == 200
    assert db.session.execute(select(User)).first() is None


def test_the_demo_applicants_can_log_in_at_once(client, db):
    from certify.demo import DEMO_PASSWORD, load_demo

    logins = load_demo()
    db.session.commit()
    email = next(email for email, role in logins if role == Role.APPLICANT.value)
    assert client.post("/login", data={"email": email, "password": DEMO_PASSWORD}).status_code == 302


def test_administrators_see_a_registration_waiting_for_its_confirmation(client, login_as, db, outbox):
    client.post("/register", data=registration())
    client.post("/logout")
    login_as("admin")
    page = client.get("/admin/users?q=zhou.li", headers=EN).get_data(as_text=True)
    row = page[page.index("zhou.li@example.com"):]
    assert "Registration not yet confirmed by e-mail" in row[:row.index("</tr>")]
