"""Accounts: people who log in, each belonging to one organisation and holding one role."""

import enum
import secrets
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from certify.auth.sealed import Sealed
from certify.extensions import db
from certify.organisations.models import Organisation, enum_column
from certify.timeutil import utcnow


class Role(enum.StrEnum):
    APPLICANT = "applicant"
    ASSESSOR = "assessor"
    ADMIN = "admin"
    # A city or prefecture bureau of economy and information technology (市（州）经济和信息化局):
    # pre-reviews its enterprises' applications and recommends them to the province.
    CITY = "city"


def new_session_token() -> str:
    return secrets.token_urlsafe(24)


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored in lower case, so uniqueness is case-insensitive on every database.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    # Empty until an invited colleague sets a password through the emailed link.
    password_hash: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(enum_column(Role, "user_role"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    is_active: Mapped[bool] = mapped_column(default=True)
    preferred_language: Mapped[str | None] = mapped_column(String(8))
    # Part of the login cookie; replaced on logout and password change so that copied cookies
    # stop working on the server side.
    session_token: Mapped[str] = mapped_column(String(64), default=new_session_token)
    # Time-based one-time passwords (second factor), when the user has switched them on.
    # Sealed at rest: a dump of the database gives no one the seeds of the codes.
    totp_secret: Mapped[str | None] = mapped_column(Sealed())
    totp_enabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The time step of the last code accepted: a code is good for one login only.
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    # When the person proved the address is theirs. Empty only for a self-registration whose
    # mailed link has not been followed yet: such an account cannot log in, and is removed when
    # the link expires. Accounts made by an administrator or an invitation count as proven.
    email_confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=utcnow,
                                                                index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    organisation: Mapped[Organisation] = relationship(back_populates="users", lazy="joined")

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"

    @property
    def is_confirmed(self) -> bool:
        return self.email_confirmed_at is not None

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def is_assessor(self) -> bool:
        return self.role == Role.ASSESSOR

    @property
    def is_city(self) -> bool:
        return self.role == Role.CITY

    @property
    def is_applicant(self) -> bool:
        return self.role == Role.APPLICANT

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email} {self.role}>"
