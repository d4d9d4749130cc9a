"""Creating and changing organisations."""

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from certify.audit.services import record_event
from certify.exceptions import ServiceError
from certify.extensions import db
from certify.organisations.credit_code import CreditCodeError, normalise_credit_code
from certify.organisations.models import Organisation, OrganisationKind
from certify.organisations.reference import cities_by_code, is_industry_class

INDUSTRY_CLASS_REQUIRED = _l("Choose the industry class (小类, four digits) of GB/T 4754-2017 from the list, "
                             "by code or name, e.g. 3120 炼钢.")


def find_by_credit_code(code: str) -> Organisation | None:
    return db.session.execute(
        select(Organisation).where(Organisation.credit_code == code)
    ).scalar_one_or_none()


def create_organisation(*, actor, kind: OrganisationKind, name: str, credit_code: str | None,
                        city_code: str, industry_code: str | None = None, address: str = "",
                        contact_name: str = "", contact_phone: str = "") -> Organisation:
    """Create an organisation after checking its credit code, city and industry."""
    name = (name or "").strip()
    if not name:
        raise ServiceError(_l("Enter the organisation's name."), field="organisation_name")
    code = None
    if credit_code or kind != OrganisationKind.AUTHORITY:
        try:
            code = normalise_credit_code(credit_code or "")
        except CreditCodeError as exc:
            raise ServiceError(exc.message, field="credit_code") from exc
        if find_by_credit_code(code) is not None:
            raise ServiceError(
                _l("An organisation with this unified social credit code is already registered. "
                   "Ask its users to invite you, or contact the administrator."),
                field="credit_code",
            )
    if city_code not in cities_by_code():
        raise ServiceError(_l("Choose a city or prefecture of Sichuan."), field="city_code")
    if industry_code and not is_industry_class(industry_code):
        raise ServiceError(INDUSTRY_CLASS_REQUIRED, field="industry_code")
    if kind == OrganisationKind.ENTERPRISE and not industry_code:
        raise ServiceError(_l("Choose the enterprise's industry."), field="industry_code")
    organisation = organisation_record(kind=kind, name=name, credit_code=code, city_code=city_code,
                                       industry_code=industry_code, address=address,
                                       contact_name=contact_name, contact_phone=contact_phone)
    db.session.add(organisation)
    record_event("organisation.created", actor=actor, obj=organisation, details=created_details(organisation))
    return organisation


def organisation_record(*, kind: OrganisationKind, name: str, credit_code: str | None, city_code: str,
                        industry_code: str | None = None, address: str = "", contact_name: str = "",
                        contact_phone: str = "") -> Organisation:
    """An organisation of details already checked (as ``create_organisation`` checks them; an
    import checks a whole workbook's at once). Not added, no audit event: the caller adds it and
    records ``organisation.created`` with ``created_details``."""
    return Organisation(
        kind=kind, name=name, credit_code=credit_code, city_code=city_code,
        industry_code=industry_code or None, address=(address or "").strip(),
        contact_name=(contact_name or "").strip(), contact_phone=(contact_phone or "").strip(),
    )


def created_details(organisation: Organisation) -> dict:
    """The details of an ``organisation.created`` event."""
    return {"kind": organisation.kind.value, "name": organisation.name, "credit_code": organisation.credit_code}


EDITABLE_FIELDS = ("name", "city_code", "industry_code", "address", "contact_name", "contact_phone")


def update_organisation(admin, organisation: Organisation, **changes) -> list[str]:
    """An administrator corrects an organisation's details; returns the fields that changed.
    The credit code is the organisation's identity and is not edited here."""
    from certify.auth.models import Role

    if admin.role != Role.ADMIN:
        raise ServiceError(_l("Only administrators can do this."))
    changes = {key: (value or "").strip() for key, value in changes.items() if key in EDITABLE_FIELDS}
    if not changes.get("name", organisation.name):
        raise ServiceError(_l("Enter the organisation's name."), field="name")
    if "city_code" in changes and changes["city_code"] not in cities_by_code():
        raise ServiceError(_l("Choose a city or prefecture of Sichuan."), field="city_code")
    before = {key: getattr(organisation, key) or "" for key in changes}
    # A code kept as it was is not checked again (records from before classes were required).
    new_industry = changes.get("industry_code")
    if new_industry and new_industry != before.get("industry_code") and not is_industry_class(new_industry):
        raise ServiceError(INDUSTRY_CLASS_REQUIRED, field="industry_code")
    if organisation.kind == OrganisationKind.ENTERPRISE and "industry_code" in changes and not new_industry:
        raise ServiceError(_l("Choose the enterprise's industry."), field="industry_code")
    changed = [key for key, value in changes.items() if before[key] != value]
    for key in changed:
        setattr(organisation, key, changes[key] or (None if key == "industry_code" else ""))
    if changed:
        record_event("organisation.updated", actor=admin, obj=organisation,
                     details={key: {"from": before[key], "to": changes[key]} for key in changed})
    return changed


def set_organisation_active(admin, organisation: Organisation, active: bool) -> None:
    """Deactivating an organisation stops all its users from logging in."""
    from certify.auth.models import Role

    if admin.role != Role.ADMIN:
        raise ServiceError(_l("Only administrators can do this."))
    if organisation.kind == OrganisationKind.AUTHORITY and not active:
        raise ServiceError(_l("The department itself cannot be deactivated."))
    if organisation.is_active == active:
        return
    organisation.is_active = active
    record_event("organisation.activated" if active else "organisation.deactivated",
                 actor=admin, obj=organisation)
