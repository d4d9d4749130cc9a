"""The city bureaus (市（州）经济和信息化局): organisations of the kind ``authority``, one for each
of Sichuan's 21 cities and prefectures (``organisations.reference.cities``), told apart from the
department (the first authority, ``auth.services.authority_organisation``) by not being it."""

from sqlalchemy import select

from certify.auth.services import authority_organisation
from certify.extensions import db
from certify.organisations.models import Organisation, OrganisationKind
from certify.organisations.reference import cities
from certify.organisations.services import create_organisation


def bureau_name(city) -> str:
    """The bureau's name as the province writes it, e.g. 成都市经济和信息化局."""
    return f"{city.name_zh}经济和信息化局"


def city_bureaus() -> list[Organisation]:
    """The city bureaus, in city-code order."""
    department = authority_organisation()
    return list(db.session.execute(
        select(Organisation).where(Organisation.kind == OrganisationKind.AUTHORITY,
                                   Organisation.id != department.id)
        .order_by(Organisation.city_code, Organisation.id)
    ).scalars())


def ensure_city_bureaus() -> list[Organisation]:
    """Create the bureau of every city that has none yet (the department first, so that it stays
    the first authority); returns those created (flush only, each audited by its creation)."""
    existing = {bureau.city_code for bureau in city_bureaus()}
    return [create_organisation(actor=None, kind=OrganisationKind.AUTHORITY, name=bureau_name(city),
                                credit_code=None, city_code=city.code)
            for city in cities() if city.code not in existing]
