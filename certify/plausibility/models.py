"""The plausibility flags raised on a submitted self-assessment or self-declaration, and how each
was cleared.

A flag belongs to one subject: a submission of an application's self-assessment, or a
self-declaration (exactly one of ``submission_id`` and ``declaration_id``); ``application_id`` is
set for both, so that everything about an application is found by it. ``figures`` holds the
values involved as the rule gave them (a list of {"indicator", "input", "role", "value",
"unit"}), ``details`` the rule's parameters. A flag is open until cleared: by an assessor or
administrator with a reason (``cleared_by_id`` set), or by the system when a later submission
of the same application replaced the one it was raised on (``cleared_by_id`` empty).
"""

import enum
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, CheckConstraint, DateTime, ForeignKey, Index, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from certify.applications.models import Application
from certify.extensions import db
from certify.organisations.models import enum_column
from certify.plausibility import rules
from certify.timeutil import utcnow


class PlausibilityRule(enum.StrEnum):
    IDENTITY = rules.IDENTITY
    SHARE_MISMATCH = rules.SHARE_MISMATCH
    SHARED_QUANTITY = rules.SHARED_QUANTITY
    UNIT_SLIP = rules.UNIT_SLIP
    JUMP = rules.JUMP
    BEYOND_LIMIT = rules.BEYOND_LIMIT
    PERCENTAGE_RANGE = rules.PERCENTAGE_RANGE
    PART_EXCEEDS_WHOLE = rules.PART_EXCEEDS_WHOLE


RULE_LABELS = {
    PlausibilityRule.IDENTITY: _l("The value does not follow from the figures it is computed from"),
    PlausibilityRule.SHARE_MISMATCH: _l("The percentage does not follow from its parts"),
    PlausibilityRule.SHARED_QUANTITY: _l("The same quantity is reported with different figures"),
    PlausibilityRule.UNIT_SLIP: _l("About 1,000 times too large or too small: probably a wrong unit"),
    PlausibilityRule.JUMP: _l("Changed beyond the usual factor since the previous period"),
    PlausibilityRule.BEYOND_LIMIT: _l("Worse than the national energy-consumption limit (grade 3)"),
    PlausibilityRule.PERCENTAGE_RANGE: _l("A percentage outside 0 to 100"),
    PlausibilityRule.PART_EXCEEDS_WHOLE: _l("A part is larger than its whole"),
}


class PlausibilityFlag(db.Model):
    """One rule's finding on one submitted self-assessment or self-declaration."""

    __tablename__ = "plausibility_flags"
    __table_args__ = (
        CheckConstraint("(submission_id IS NULL AND declaration_id IS NOT NULL) OR "
                        "(submission_id IS NOT NULL AND declaration_id IS NULL)", name="one_subject"),
        CheckConstraint("(cleared_at IS NULL AND cleared_by_id IS NULL AND clear_reason = '') OR "
                        "(cleared_at IS NOT NULL AND clear_reason != '')", name="cleared_with_reason"),
        Index("ix_plausibility_flags_application_cleared", "application_id", "cleared_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"))
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("submissions.id"), index=True)
    declaration_id: Mapped[int | None] = mapped_column(ForeignKey("declarations.id"), index=True)
    rule: Mapped[PlausibilityRule] = mapped_column(enum_column(PlausibilityRule, "plausibility_rule"))
    indicator_ids: Mapped[list] = mapped_column(JSON, default=list)
    figures: Mapped[list] = mapped_column(JSON, default=list)
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    raised_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    cleared_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cleared_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    clear_reason: Mapped[str] = mapped_column(Text, default="")

    application: Mapped[Application] = relationship()
    cleared_by = relationship("User", foreign_keys=[cleared_by_id])

    @property
    def is_open(self) -> bool:
        return self.cleared_at is None

    @property
    def is_superseded(self) -> bool:
        """Closed by the system because a later submission replaced the one it was raised on."""
        return self.cleared_at is not None and self.cleared_by_id is None

    def __repr__(self) -> str:
        return f"<PlausibilityFlag {self.id} app={self.application_id} {self.rule}>"
