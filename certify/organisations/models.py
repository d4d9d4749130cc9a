"""Organisations: applicants (enterprises, park management committees), assessment agencies and
the authority that runs the programme."""

import enum
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, DateTime, Enum, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from certify.extensions import db
from certify.timeutil import utcnow


class OrganisationKind(enum.StrEnum):
    ENTERPRISE = "enterprise"
    PARK_COMMITTEE = "park_committee"
    AGENCY = "agency"
    AUTHORITY = "authority"


# Kinds that apply for recognition.
APPLICANT_KINDS = (OrganisationKind.ENTERPRISE, OrganisationKind.PARK_COMMITTEE)


def enum_column(enum_class, name: str):
    """A string column restricted to ``enum_class``'s values by a named CHECK constraint."""
    return Enum(
        enum_class,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=max(len(member.value) for member in enum_class),
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )


class Organisation(db.Model):
    __tablename__ = "organisations"
    __table_args__ = (
        # Only the authority itself may be recorded without a credit code.
        CheckConstraint("credit_code IS NOT NULL OR kind = 'authority'", name="credit_code_required"),
        Index("ix_organisations_kind_name", "kind", "name"),  # the agencies page
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[OrganisationKind] = mapped_column(enum_column(OrganisationKind, "organisation_kind"))
    name: Mapped[str] = mapped_column(String(200))
    credit_code: Mapped[str | None] = mapped_column(String(18), unique=True)
    city_code: Mapped[str] = mapped_column(String(6), index=True)
    industry_code: Mapped[str | None] = mapped_column(String(4), index=True)
    address: Mapped[str] = mapped_column(String(300), default="")
    contact_name: Mapped[str] = mapped_column(String(100), default="")
    contact_phone: Mapped[str] = mapped_column(String(40), default="")
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    users: Mapped[list["User"]] = relationship(back_populates="organisation")  # noqa: F821

    def __repr__(self) -> str:
        return f"<Organisation {self.id} {self.kind} {self.name!r}>"


ORGANISATION_KIND_LABELS = {
    OrganisationKind.ENTERPRISE: _l("Enterprise"),
    OrganisationKind.PARK_COMMITTEE: _l("Industrial park management committee"),
    OrganisationKind.AGENCY: _l("Assessment agency"),
    OrganisationKind.AUTHORITY: _l("The department"),
}
