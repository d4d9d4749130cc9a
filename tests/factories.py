"""Small factories for tests: each makes a valid object with sensible defaults, flushed but not
committed. Applications reach each state of the workflow through ``certify.demo.builders``, that
is through the services that make that state in use (assignment, score sheets, batches and
announcements included), never by a bare transition: a test cannot hold a state the system
cannot produce. The after-commit jobs (evaluation reports, certificates) run when a test commits."""

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
    Role.CITY: OrganisationKind.AUTHORITY,  # a city bureau: pass ``organisation`` for its city
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


def make_city_user(city_code: str = "510100", **fields) -> User:
    """A city bureau user (市（州）经济和信息化局) of ``city_code``'s bureau, made with the bureaus
    (``flask tiers cities``) when they do not exist yet."""
    from certify.tiers.bureaus import city_bureaus, ensure_city_bureaus

    ensure_city_bureaus()
    bureau = next(b for b in city_bureaus() if b.city_code == city_code)
    return make_user(Role.CITY, organisation=bureau, **fields)


def best_answers(rule_set, industry=None) -> dict:
    """Stored-form answers that earn every applicable indicator its maximum."""
    from certify.demo import builders

    return builders.best_answers(rule_set, industry)


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


# What the factories' applicants upload unless a test says otherwise.
EVIDENCE = {"evidence": PDF_BYTES, "evidence_name": "营业执照.pdf"}
_batches = itertools.count(1)


def complete_application(user=None, *, kind="supply_chain", subject="绿色供应链管理", **fields):
    """A draft with every indicator answered at its best (saved through the service) and one
    evidence file: ready to submit."""
    from certify.demo import builders

    user = user or make_user(Role.APPLICANT)
    application = builders.complete(user, kind=kind, subject=subject, **(EVIDENCE | fields))
    db.session.flush()
    return application


def _submitted(applicant, *, kind="supply_chain", subject="绿色供应链管理", **fields):
    """A complete application submitted by ``applicant`` with the pledge in their name (inside a
    request context, held by the caller: the notification e-mails hold links)."""
    from certify.demo import builders

    return builders.submitted(applicant, kind=kind, subject=subject, **(EVIDENCE | fields))


def assessed_application(applicant=None, *, assessor=None, admin=None, **fields):
    """An application submitted, assigned to a lead assessor (``make_assessor()`` unless given:
    one of an agency with its profile), accepted, scored and submitted by them: assessed, as the
    services make it. Its evaluation report is rendered by a job once the test commits."""
    from flask import current_app

    from certify.demo import builders

    applicant = applicant or make_user(Role.APPLICANT)
    admin = admin or make_user(Role.ADMIN)
    assessor = assessor or make_assessor()
    with current_app.test_request_context():  # the e-mails to applicant and assessor hold links
        application = _submitted(applicant, **fields)
        builders.assessed(application, admin=admin, lead=assessor)
    db.session.flush()
    return application


def approved_application(applicant=None, *, admin=None, assessor=None, **fields):
    """An assessed application approved by ``admin`` (who assigned its assessor)."""
    from flask import current_app

    from certify.demo import builders

    admin = admin or make_user(Role.ADMIN)
    application = assessed_application(applicant, assessor=assessor, admin=admin, **fields)
    with current_app.test_request_context():
        builders.decided(application, admin=admin, reason="符合要求")
    db.session.flush()
    return application


def listed_application(applicant=None, *, admin=None, assessor=None, **fields):
    """An approved application put on a publication batch of its own, under notice, and
    announced once the notice has run: it is listed and holds the certificate the announcement
    issued (rendered once the test commits; see ``issued_certificate``)."""
    from flask import current_app

    from certify.demo import builders

    admin = admin or make_user(Role.ADMIN)
    application = approved_application(applicant, admin=admin, assessor=assessor, **fields)
    with current_app.test_request_context():
        batch = builders.in_notice([application], admin=admin, title=f"测试公示批次{next(_batches)}")
        builders.announced(batch, admin=admin)
    db.session.flush()
    return application


def issued_certificate(applicant=None, *, admin=None, assessor=None, **fields):
    """The certificate the announcement of a freshly listed application issued (its PDF is
    rendered once the test commits)."""
    from certify.certificates.services import certificate_for

    return certificate_for(listed_application(applicant, admin=admin, assessor=assessor, **fields))


def issued_certificate_at(now, applicant=None, *, admin=None, assessor=None, **fields):
    """``issued_certificate``, as if the announcement had issued it at ``now`` (an aware
    datetime): its number, issue time and validity follow that moment, as for a listing made then.
    Like ``builders.announced`` with the notice, this takes a liberty with time only."""
    from unittest import mock

    from certify.certificates import services

    with mock.patch.object(services, "utcnow", lambda: now):
        return issued_certificate(applicant, admin=admin, assessor=assessor, **fields)


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

    user = user or make_user(Role.APPLICANT)
    with current_app.test_request_context():  # the notification e-mails hold links
        application = _submitted(user, **fields)
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
