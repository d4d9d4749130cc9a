"""Applicants register their organisation and first user."""

from sqlalchemy import select

from certify.audit.models import AuditEvent
from certify.auth.models import Role, User
from certify.organisations.models import Organisation, OrganisationKind
from tests import factories


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


def test_an_enterprise_registers_and_is_logged_in(client, db):
    data = registration()
    response = client.post("/register", data=data)
    assert response.status_code == 302

    user = db.session.execute(select(User)).scalar_one()
    assert user.email == "zhou.li@example.com"
    assert user.role == Role.APPLICANT
    assert user.organisation.kind == OrganisationKind.ENTERPRISE
    assert user.organisation.credit_code == data["credit_code"]
    assert user.organisation.city_code == "510100"
    actions = db.session.execute(select(AuditEvent.action).order_by(AuditEvent.id)).scalars().all()
    assert actions == ["organisation.created", "user.registered"]

    home = client.get("/")
    assert "周丽" in home.get_data(as_text=True)


def test_a_duplicate_email_is_refused_whatever_its_case(client, db):
    factories.make_user(email="zhou.li@example.com")
    db.session.commit()
    response = client.post("/register", data=registration(email="ZHOU.LI@example.com"),
                           headers={"Accept-Language": "en"})
    assert response.status_code == 200
    assert "An account with this e-mail address already exists" in response.get_data(as_text=True)
    assert db.session.execute(select(Organisation).where(Organisation.name == "成都锦江绿色制造有限公司")).first() is None


def test_a_duplicate_credit_code_is_refused_and_nothing_is_saved(client, db):
    existing = factories.make_organisation()
    db.session.commit()
    response = client.post("/register", data=registration(credit_code=existing.credit_code.lower()),
                           headers={"Accept-Language": "en"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "already registered" in page
    assert db.session.execute(select(User)).first() is None


def test_a_mistyped_credit_code_is_explained_and_the_typed_values_are_kept(client, db):
    data = registration()
    broken = data["credit_code"][:-1] + ("0" if data["credit_code"][-1] != "0" else "1")
    response = client.post("/register", data=registration(credit_code=broken),
                           headers={"Accept-Language": "en"})
    page = response.get_data(as_text=True)
    assert "check character" in page
    assert "成都锦江绿色制造有限公司" in page  # nothing typed is lost
    assert db.session.execute(select(Organisation)).first() is None


def test_an_enterprise_must_name_its_industry(client, db):
    response = client.post("/register", data=registration(industry_code=""),
                           headers={"Accept-Language": "en"})
    assert "Choose the enterprise" in response.get_data(as_text=True)
    assert db.session.execute(select(User)).first() is None


def test_a_park_committee_registers_without_an_industry(client, db):
    response = client.post("/register", data=registration(kind="park_committee", industry_code=""))
    assert response.status_code == 302
    organisation = db.session.execute(select(Organisation)).scalar_one()
    assert organisation.kind == OrganisationKind.PARK_COMMITTEE


def test_a_city_outside_sichuan_is_refused(client, db):
    response = client.post("/register", data=registration(city_code="110100"),
                           headers={"Accept-Language": "en"})
    assert response.status_code == 200
    assert db.session.execute(select(User)).first() is None


def test_agencies_cannot_register_themselves(client, db):
    response = client.post("/register", data=registration(kind="agency"))
    assert response.status_code == 200
    assert db.session.execute(select(User)).first() is None
