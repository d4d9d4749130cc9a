"""Imports every model module, so that the metadata (and migrations) know all tables."""

from certify.api.models import ApiKey  # noqa: F401
from certify.applications.models import Application, Evidence, Submission  # noqa: F401
from certify.assessment.models import (  # noqa: F401
    AgencyProfile,
    AssessorProfile,
    Assignment,
    ConflictDeclaration,
    EvaluationReport,
    ScoreSheet,
)
from certify.audit.models import AuditEvent  # noqa: F401
from certify.auth.models import Role, User  # noqa: F401
from certify.certificates.models import Certificate, CertificateCounter  # noqa: F401
from certify.grades.models import GradingRun, RemovalDecision, UnitGrade  # noqa: F401
from certify.mail.models import MailMessage  # noqa: F401
from certify.management.models import Declaration, ReminderSent  # noqa: F401
from certify.organisations.models import Organisation, OrganisationKind  # noqa: F401
from certify.pilots.models import Pilot, PilotReport  # noqa: F401
from certify.plausibility.models import PlausibilityFlag  # noqa: F401
from certify.publication.models import Batch, BatchEntry, Decision, Objection  # noqa: F401
from certify.rulesets.models import Rescore  # noqa: F401
from certify.tiers.models import CityReview  # noqa: F401
