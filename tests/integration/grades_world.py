"""Listed units for the cohort-grade and park-removal tests, made through the services that make
them in use: applications submitted, assessed, approved, put on one batch and announced; their
self-declarations opened and submitted by their organisations, and reviewed by the department."""

from datetime import date, timedelta

from flask import current_app

from certify.auth.models import Role
from certify.demo import builders
from certify.extensions import db
from certify.management import services as management
from certify.organisations.models import OrganisationKind
from certify.plausibility import services as plausibility
from tests import factories


def listed_units(count: int, *, admin, kind: str = "factory", industry_code: str = "3120",
                 city_code: str = "510100") -> list:
    """``count`` listed applications of ``kind``, each of an organisation of its own."""
    organisation_kind = OrganisationKind.PARK_COMMITTEE if kind == "park" else OrganisationKind.ENTERPRISE
    approved = []
    with current_app.test_request_context():  # the notification e-mails hold links
        for number in range(count):
            organisation = factories.make_organisation(
                organisation_kind, city_code=city_code,
                industry_code=industry_code if organisation_kind == OrganisationKind.ENTERPRISE else None)
            applicant = factories.make_user(Role.APPLICANT, organisation=organisation)
            application = builders.submitted(applicant, kind=kind, subject=f"单位{number + 1}",
                                             **factories.EVIDENCE)
            # An agency of its own each: an agency's legal representative takes 15 a year at most.
            builders.assessed(application, admin=admin,
                              lead=factories.make_assessor(kinds=(kind,)))
            builders.decided(application, admin=admin, reason="符合要求")
            approved.append(application)
        batch = builders.in_notice(approved, admin=admin, title=f"名单{kind}{count}")
        builders.announced(batch, admin=admin)
    db.session.flush()
    return approved


def as_certified(application) -> dict:
    """Every key metric's answer as the lead assessor verified it (a computed metric: its
    figures, without the industry's benchmarks)."""
    verified = management.lead_assessor_answers(application) or {}
    answers = {}
    for indicator in management.key_metrics(application):
        given = verified.get(indicator.id)
        if given is not None and indicator.is_computed:
            given = {entry.key: given[entry.key] for entry in indicator.inputs}
        answers[indicator.id] = given
    return answers


def declare(application, values: dict, *, reviewed_by=None, period: date | None = None):
    """The organisation's declaration of ``values`` (indicator id -> number, or a computed
    metric's figures), the other key metrics as at certification, for the current period,
    submitted; reviewed by ``reviewed_by`` when given: the declaration's flags read and its
    plausibility flags cleared, so that none is open any more."""
    applicant = application.created_by
    declaration = management.open_declaration(applicant, application, period)
    declaration.values = as_certified(application) | {
        key: value if isinstance(value, dict) else str(value) for key, value in values.items()}
    declaration.no_major_accident = declaration.no_environmental_event = declaration.no_change = True
    management.submit_declaration(applicant, declaration)
    if reviewed_by is not None and declaration.is_flagged:
        management.review_declaration(reviewed_by, declaration, note="已核实，数据属实。")
    if reviewed_by is not None:
        for flag in plausibility.open_flags_for([application.id])[application.id]:
            plausibility.clear_flag(reviewed_by, flag, "已核实，数据属实。")
    return declaration


def after(period: date) -> date:
    """A day on which ``period`` has closed."""
    return period + timedelta(days=1)
