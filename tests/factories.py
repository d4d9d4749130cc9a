"""Small factories for tests: each makes a valid object with sensible defaults, flushed but not
committed."""

import contextlib
import itertools

from argon2 import PasswordHasher

from certify.auth.models import Role, User
from certify.extensions import db
from certify.organisations.credit_code import check_character
from certify.organisations.models import Organisation, OrganisationKind

PASSWORD = "correct horse battery"
# One real argon2id hash, computed once, so that factories stay fast.
_PASSWORD_HASH = PasswordHasher().hash(PASSWORD)
_sequence = itertools.count(1)

ROLE_KINDS = {
    Role.APPLICANT: OrganisationKind.ENTERPRISE,
    Role.ASSESSOR: OrganisationKind.AGENCY,
    Role.ADMIN: OrganisationKind.AUTHORITY,
}


def credit_code(number: int | None = None, city_code: str = "510100") -> str:
    """A well-formed unified social credit code, different for each ``number``."""
    number = next(_sequence) if number is None else number
    first17 = f"91{city_code}MA{number:07d}"
    return first17 + check_character(first17)


def make_organisation(kind: OrganisationKind | str = OrganisationKind.ENTERPRISE, **fields) -> Organisation:
    kind = OrganisationKind(kind)
    number = next(_sequence)
    defaults = {
        "name": f"测试组织{number}有限公司",
        "credit_code": credit_code(number),
        "city_code": "510100",
        "industry_code": "3120" if kind == OrganisationKind.ENTERPRISE else None,
        "address": "成都市",
        "contact_name": "联系人",
        "contact_phone": "028-00000000",
    }
    organisation = Organisation(kind=kind, **(defaults | fields))
    db.session.add(organisation)
    db.session.flush()
    return organisation


def make_user(role: Role | str = Role.APPLICANT, organisation: Organisation | None = None,
              **fields) -> User:
    role = Role(role)
    organisation = organisation or make_organisation(ROLE_KINDS[role])
    number = next(_sequence)
    defaults = {
        "email": f"user{number}@example.com",
        "name": f"用户{number}",
        "password_hash": _PASSWORD_HASH,
    }
    user = User(role=role, organisation=organisation, **(defaults | fields))
    db.session.add(user)
    db.session.flush()
    return user


def best_answers(rule_set, industry=None) -> dict:
    """Stored-form answers that earn every applicable indicator its maximum."""
    from certify.demo import best_answer
    from certify.scoring import applicable_indicators

    answers = {}
    for indicator in applicable_indicators(rule_set, industry):
        answers[indicator.id] = best_answer(indicator)
    return answers


def make_application(user=None, *, kind="supply_chain", subject="绿色供应链管理", answers=None,
                     **fields):
    """An application opened through the service (so the rule set is pinned as in production)."""
    from certify.applications import services

    user = user or make_user(Role.APPLICANT)
    application = services.open_application(user, kind=kind, subject=subject, **fields)
    if answers is not None:
        application.answers = answers
    db.session.flush()
    return application


# A small, complete PDF (one empty page), as an applicant's scanner might produce.
PDF_BYTES = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


def attach_evidence(application, user, *, indicator_id=None, data=PDF_BYTES, name="营业执照.pdf"):
    """Evidence attached through the service, stored for real."""
    import io

    from certify.applications import services

    return services.add_evidence(user, application, indicator_id=indicator_id,
                                 fileobj=io.BytesIO(data), filename=name)


def complete_application(user=None, **fields):
    """A draft with every indicator answered at its best and one evidence file: ready to submit."""
    from certify.rulesets.applied import rule_set_of

    application = make_application(user, **fields)
    application.answers = best_answers(rule_set_of(application), application.industry_code)
    attach_evidence(application, user or application.created_by)
    db.session.flush()
    return application


def assessed_application(applicant=None, *, assessor=None, admin=None, **fields):
    """An application taken through submission and assessment by the workflow itself."""
    from certify.applications import services
    from certify.workflow import Action, transition

    applicant = applicant or make_user(Role.APPLICANT)
    application = complete_application(applicant, **fields)
    services.submit_application(applicant, application, pledge_name=applicant.name, pledge_accepted=True)
    admin = admin or make_user(Role.ADMIN)
    assessor = assessor or make_user(Role.ASSESSOR)
    transition(application, Action.ASSIGN, admin)
    transition(application, Action.ACCEPT, assessor)
    transition(application, Action.REPORT, assessor)
    db.session.flush()
    return application


def approved_application(applicant=None, *, admin=None, **fields):
    from certify.publication import services

    admin = admin or make_user(Role.ADMIN)
    application = assessed_application(applicant, **fields)
    services.decide(admin, application, "approved", "符合要求")
    db.session.flush()
    return application


def listed_application(applicant=None, *, admin=None, **fields):
    """An application taken by the workflow through approval, notice and announcement (without a
    publication batch, and without a certificate: see ``issued_certificate``)."""
    from certify.workflow import Action, transition

    admin = admin or make_user(Role.ADMIN)
    application = approved_application(applicant, admin=admin, **fields)
    transition(application, Action.OPEN_NOTICE, admin)
    transition(application, Action.ANNOUNCE, admin)
    db.session.flush()
    return application


def issued_certificate(applicant=None, *, admin=None, **fields):
    """The certificate of a freshly listed application, issued through the service (its PDF is
    rendered once the test commits)."""
    from certify.certificates.services import issue_certificate

    admin = admin or make_user(Role.ADMIN)
    application = listed_application(applicant, admin=admin, **fields)
    return issue_certificate(application, admin)


# ---- assessment -------------------------------------------------------------------------------


def make_agency(legal_representative=None, **fields) -> Organisation:
    """An assessment agency with the profile its reports need (a legal representative of its own
    unless one is given: agencies with one legal representative share the yearly cap)."""
    from certify.assessment.models import AgencyProfile

    number = next(_sequence)
    fields = {"name": f"测试评价机构{number}"} | fields
    legal_representative = legal_representative or f"王法人{number}"
    agency = make_organisation(OrganisationKind.AGENCY, **fields)
    db.session.add(AgencyProfile(organisation=agency, legal_representative=legal_representative,
                                 qualification="专职评价人员 12 名"))
    db.session.flush()
    return agency


def make_assessor(agency: Organisation | None = None, *, kinds=("supply_chain", "factory"),
                  industries=("31",), city_code="510100", **fields) -> User:
    """An assessor of ``agency`` (a new agency by default) with recorded expertise."""
    from certify.assessment.models import AssessorProfile

    assessor = make_user(Role.ASSESSOR, organisation=agency or make_agency(), **fields)
    db.session.add(AssessorProfile(user=assessor, kinds=list(kinds), industries=list(industries),
                                   city_code=city_code, title="高级工程师"))
    db.session.flush()
    return assessor


def make_submitted_application(user=None, **fields):
    """A complete application, submitted by its applicant through the service."""
    from flask import current_app

    from certify.applications import services

    application = complete_application(user, **fields)
    with current_app.test_request_context():  # the notification e-mails hold links
        services.submit_application(application.created_by, application, pledge_name="周丽",
                                    pledge_accepted=True)
    db.session.flush()
    return application


def assign(application, lead, second=None, *, admin=None, due_on=None):
    """Assign assessors through the service, as an administrator would."""
    from flask import current_app

    from certify.assessment.assignment import assign_assessors

    admin = admin or make_user(Role.ADMIN)
    with current_app.test_request_context():  # the e-mails to the assessors hold links
        assignments = assign_assessors(admin, application, lead=lead, second=second,
                                       due_on=due_on)
    db.session.flush()
    return assignments


@contextlib.contextmanager
def rule_sets_before(app, day: str):
    """The deployment as it was before ``day``: only the rule sets that were in force then, open-ended
    (applications opened inside pin them, as applications opened then did)."""
    from dataclasses import replace
    from datetime import date

    from certify import rulesets
    from certify.rulesets.registry import Registry

    before = app.extensions[rulesets.EXTENSION]
    cut = date.fromisoformat(day)
    kept = [replace(rs, effective_until=None) for rs in before.all() if rs.effective_from < cut]
    app.extensions[rulesets.EXTENSION] = Registry(kept, vocabulary=before.vocabulary)
    try:
        yield
    finally:
        app.extensions[rulesets.EXTENSION] = before
