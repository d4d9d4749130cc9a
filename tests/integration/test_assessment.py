"""Assignment: an administrator assigns fair, checked assessors; conflicts and the agency's
yearly cap refuse an assignment with the reason shown; assessors reach only their own work."""

from datetime import date, timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from certify.assessment.agencies import assessor_profile
from certify.assessment.assignment import preview_bulk_assignment, refusals, suggestions
from certify.assessment.conflicts import withdraw_conflict
from certify.assessment.models import (
    AssessorRole,
    Assignment,
    AssignmentStatus,
    ConflictDeclaration,
    ConflictRelation,
)
from certify.audit.models import AuditEvent
from certify.mail.models import MailMessage
from certify.timeutil import local_today
from certify.workflow import Status
from tests import factories

EN = {"Accept-Language": "en"}
ZH = {"Accept-Language": "zh"}


def client_for(app, user):
    """A separate browser, logged in as ``user``."""
    browser = app.test_client()
    response = browser.post("/login", data={"email": user.email, "password": factories.PASSWORD})
    assert response.status_code == 302
    return browser


def declare(assessor, application, *, starts_on, ends_on=None, relation=ConflictRelation.CONSULTED):
    declaration = ConflictDeclaration(
        assessor=assessor, credit_code=application.organisation.credit_code,
        organisation_name=application.organisation.name, relation=relation,
        starts_on=starts_on, ends_on=ends_on, declared_by_id=assessor.id)
    factories.db.session.add(declaration)
    factories.db.session.flush()
    return declaration


def years_ago(years: int, days: int = 0) -> date:
    today = date.today()
    return today.replace(year=today.year - years) - timedelta(days=days)


def post_assignment(client, application, lead, second=None, **extra):
    return client.post(f"/assessment/applications/{application.id}", headers=EN, data={
        "lead_id": lead.id, "second_id": second.id if second else 0, **extra})


def test_an_admin_assigns_a_lead_and_a_second_assessor(client, login_as, db):
    login_as("admin")
    application = factories.make_submitted_application()
    lead, second = factories.make_assessor(), factories.make_assessor()
    db.session.commit()
    response = post_assignment(client, application, lead, second)
    assert response.status_code == 302
    assert application.status == Status.ASSIGNED
    assignments = db.session.execute(select(Assignment).order_by(Assignment.id)).scalars().all()
    assert [(a.assessor_id, a.role, a.status) for a in assignments] == [
        (lead.id, AssessorRole.LEAD, AssignmentStatus.PENDING),
        (second.id, AssessorRole.SECOND, AssignmentStatus.PENDING)]
    # The default due date, and each assessor told by e-mail.
    assert assignments[0].due_on == local_today() + timedelta(days=30)
    recipients = set(db.session.execute(select(MailMessage.recipient)).scalars())
    assert {lead.email, second.email} <= recipients
    assert db.session.execute(select(AuditEvent).where(AuditEvent.action == "application.assign")).scalar_one()


def test_an_assessor_of_the_applicant_itself_cannot_be_assigned(client, login_as, db):
    login_as("admin")
    application = factories.make_submitted_application()
    insider = factories.make_user("assessor", organisation=application.organisation)
    db.session.commit()
    page = post_assignment(client, application, insider).get_data(as_text=True)
    assert "works for the applicant itself" in page
    assert application.status == Status.SUBMITTED
    assert db.session.execute(select(Assignment)).first() is None


@pytest.mark.parametrize("starts_on, ends_on, refused", [
    (years_ago(5), None, True),                   # still going on
    (years_ago(5), years_ago(2), True),           # ended two years ago
    (years_ago(6), years_ago(3, days=-1), True),  # ended a day less than three years ago
    (years_ago(6), years_ago(3, days=1), False),  # ended more than three years ago
    (date.today() + timedelta(days=10), None, True),  # agreed, starting soon
])
def test_a_declared_conflict_within_three_years_refuses_the_assignment(
        client, login_as, db, starts_on, ends_on, refused):
    login_as("admin")
    application = factories.make_submitted_application()
    assessor = factories.make_assessor()
    declare(assessor, application, starts_on=starts_on, ends_on=ends_on)
    db.session.commit()
    page = post_assignment(client, application, assessor).get_data(as_text=True)
    assert ("declared a conflict with the applicant within the last three years" in page) == refused
    assert application.status == (Status.SUBMITTED if refused else Status.ASSIGNED)


def test_a_withdrawn_declaration_no_longer_refuses(client, login_as, db):
    admin = login_as("admin")
    application = factories.make_submitted_application()
    assessor = factories.make_assessor()
    declaration = declare(assessor, application, starts_on=years_ago(1))
    withdraw_conflict(admin, declaration)
    db.session.commit()
    assert post_assignment(client, application, assessor).status_code == 302
    assert application.status == Status.ASSIGNED


def _fill_agency(agency, count, *, on=None, status=AssignmentStatus.ACCEPTED):
    """``count`` evaluations of ``agency`` (one application each), assigned ``on``."""
    admin = factories.make_user("admin")
    assessor = factories.make_assessor(agency)
    on = on or local_today()
    for _ in range(count):
        application = factories.make_application()
        factories.db.session.add(Assignment(
            application=application, assessor=assessor, agency_id=agency.id, role=AssessorRole.LEAD,
            submission_number=1, status=status, assigned_by_id=admin.id, assigned_on=on,
            due_on=on + timedelta(days=30),
            decline_reason="有冲突" if status == AssignmentStatus.DECLINED else None))
    factories.db.session.flush()


def test_an_agency_at_its_yearly_cap_of_15_is_refused(client, login_as, db):
    login_as("admin")
    agency = factories.make_agency("刘法人", name="蜀评检测认证有限公司")
    _fill_agency(agency, 15)
    application = factories.make_submitted_application()
    assessor = factories.make_assessor(agency)
    db.session.commit()
    page = post_assignment(client, application, assessor).get_data(as_text=True)
    year = local_today().year
    assert (f"刘法人, the legal representative of 蜀评检测认证有限公司, has reached the cap of 15 "
            f"evaluations in {year}") in page
    assert application.status == Status.SUBMITTED


def test_declined_and_last_years_evaluations_do_not_count_towards_the_cap(client, login_as, db):
    login_as("admin")
    agency = factories.make_agency()
    _fill_agency(agency, 14)
    _fill_agency(agency, 3, status=AssignmentStatus.DECLINED)
    _fill_agency(agency, 5, on=date(local_today().year - 1, 12, 31))
    application = factories.make_submitted_application()
    assessor = factories.make_assessor(agency)
    db.session.commit()
    assert post_assignment(client, application, assessor).status_code == 302
    assert application.status == Status.ASSIGNED


def test_the_cap_is_configurable(make_app, db):
    app = make_app(CERTIFY_AGENCY_YEARLY_CAP=2, CERTIFY_CAP_UNIT="agency")
    with app.test_request_context(headers={"Accept-Language": "en"}):
        agency = factories.make_agency()
        _fill_agency(agency, 2)
        application = factories.make_submitted_application()
        with force_locale("en"):
            reasons = [str(r) for r in refusals(factories.make_assessor(agency), application)]
        assert reasons == [
            f"The agency {agency.name} has reached its cap of 2 evaluations in {local_today().year}."]
        factories.db.session.rollback()


def test_lead_and_second_must_be_two_people_and_active(client, login_as, db):
    login_as("admin")
    application = factories.make_submitted_application()
    assessor = factories.make_assessor()
    retired = factories.make_assessor(is_active=False)
    db.session.commit()
    assert "two different people" in post_assignment(client, application, assessor, assessor).get_data(as_text=True)
    assert "is not an active assessor" in post_assignment(client, application, retired).get_data(as_text=True)
    assert application.status == Status.SUBMITTED


def test_suggestions_rank_expertise_then_load_then_city_and_show_refusals(client, login_as, db):
    login_as("admin")
    application = factories.make_submitted_application()  # supply chain, industry 31, Chengdu
    factories.make_assessor(name="甲专家", city_code="510300")  # expert, elsewhere
    factories.make_assessor(name="乙专家", city_code="510100")  # expert, in the applicant's city
    busy_expert = factories.make_assessor(name="丙专家")
    factories.assign(factories.make_submitted_application(), busy_expert)
    factories.make_assessor(name="丁新手", kinds=["park"], industries=[])
    conflicted = factories.make_assessor(name="戊冲突")
    declare(conflicted, application, starts_on=years_ago(1))
    db.session.commit()
    ranked = [s.assessor.name for s in suggestions(application)]
    assert ranked == ["乙专家", "甲专家", "丙专家", "丁新手", "戊冲突"]
    page = client.get(f"/assessment/applications/{application.id}", headers=EN).get_data(as_text=True)
    page = page[page.index("Suggestions"):]
    assert page.index("乙专家") < page.index("丁新手") < page.index("戊冲突")
    assert "戊冲突 declared a conflict" in page


def test_bulk_assignment_saves_nothing_until_confirmed_and_then_only_the_acceptable(client, login_as, db):
    login_as("admin")
    clean = factories.make_submitted_application()
    conflicted = factories.make_submitted_application()
    lead = factories.make_assessor()
    declare(lead, conflicted, starts_on=years_ago(1))
    db.session.commit()
    data = {"application_ids": [clean.id, conflicted.id], "lead_id": lead.id, "second_id": 0}
    preview = client.post("/assessment/bulk", data=data, headers=EN)
    page = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert "OK" in page and "declared a conflict with the applicant" in page
    assert db.session.execute(select(Assignment)).first() is None
    assert clean.status == conflicted.status == Status.SUBMITTED

    confirmed = client.post("/assessment/bulk", data=data | {"confirm": "1"}, headers=EN)
    assert confirmed.status_code == 302
    assert clean.status == Status.ASSIGNED
    assert conflicted.status == Status.SUBMITTED
    assert db.session.execute(select(Assignment.application_id)).scalars().all() == [clean.id]


def test_the_bulk_preview_reckons_the_cap_over_the_whole_batch(make_app, db):
    app = make_app(CERTIFY_AGENCY_YEARLY_CAP=1)
    with app.test_request_context(headers={"Accept-Language": "en"}):
        applications = [factories.make_submitted_application() for _ in range(2)]
        lines = preview_bulk_assignment(applications, lead=factories.make_assessor())
        assert [line.ok for line in lines] == [True, False]
        with force_locale("en"):
            assert "has reached the cap of 1" in str(lines[1].reasons[0])
        factories.db.session.rollback()


def test_overdue_assignments_are_marked(client, login_as, db, app):
    admin = login_as("admin")
    application = factories.make_submitted_application()
    assessor = factories.make_assessor()
    [assignment] = factories.assign(application, assessor, admin=admin)
    assignment.due_on = local_today() - timedelta(days=1)
    db.session.commit()
    assert "Overdue" in client.get("/assessment/", headers=EN).get_data(as_text=True)
    assert "Overdue" in client.get(f"/assessment/applications/{application.id}", headers=EN).get_data(as_text=True)
    mine = client_for(app, assessor).get("/assessment/assignments", headers=EN).get_data(as_text=True)
    assert "Overdue" in mine


def test_a_lead_who_declines_returns_the_application_for_assignment(app, db):
    application = factories.make_submitted_application()
    lead, second = factories.make_assessor(), factories.make_assessor()
    lead_assignment, second_assignment = factories.assign(application, lead, second)
    db.session.commit()
    browser = client_for(app, lead)
    declining = f"/assessment/assignments/{lead_assignment.id}/decline"
    assert browser.post(declining, data={"reason": ""}).status_code == 302
    assert lead_assignment.status == AssignmentStatus.PENDING  # a reason is required
    browser.post(declining, data={"reason": "曾为该企业提供咨询"})
    assert lead_assignment.status == AssignmentStatus.DECLINED
    assert lead_assignment.decline_reason == "曾为该企业提供咨询"
    assert second_assignment.status == AssignmentStatus.CANCELLED
    assert application.status == Status.SUBMITTED
    # The declined assessor no longer reaches the application.
    assert browser.get(f"/applications/{application.id}").status_code == 404
    assert browser.get(f"/assessment/assignments/{lead_assignment.id}").status_code == 404


def test_a_second_assessor_who_declines_leaves_the_lead_at_work(app, db):
    application = factories.make_submitted_application()
    lead, second = factories.make_assessor(), factories.make_assessor()
    lead_assignment, second_assignment = factories.assign(application, lead, second)
    db.session.commit()
    client_for(app, second).post(f"/assessment/assignments/{second_assignment.id}/decline",
                                 data={"reason": "档期冲突"})
    assert second_assignment.status == AssignmentStatus.DECLINED
    assert application.status == Status.ASSIGNED
    client_for(app, lead).post(f"/assessment/assignments/{lead_assignment.id}/accept")
    assert application.status == Status.UNDER_ASSESSMENT


def assessment_paths(assignment, application, evidence_id):
    base = f"/assessment/assignments/{assignment.id}"
    return {
        "get": [base, f"{base}/sections/basic", f"{base}/sections/strategy",
                f"{base}/evidence/{evidence_id}", f"/applications/{application.id}",
                f"/applications/{application.id}/sections/strategy",
                f"/assessment/applications/{application.id}/report",
                f"/assessment/applications/{application.id}/feedback"],
        "post": [f"{base}/accept", f"{base}/decline", f"{base}/sections/strategy", f"{base}/sheet"],
    }


def test_an_assessor_reaches_only_applications_assigned_to_them(app, db):
    application = factories.make_submitted_application()
    evidence_id = application.evidence[0].id
    mine, other = factories.make_assessor(), factories.make_assessor()
    [assignment] = factories.assign(application, mine)
    db.session.commit()
    outsider = client_for(app, other)
    paths = assessment_paths(assignment, application, evidence_id)
    for path in paths["get"]:
        assert outsider.get(path).status_code == 404, path
    for path in paths["post"]:
        assert outsider.post(path, data={"reason": "x", "a-X11": "8", "version": 1}).status_code == 404, path
    assert assignment.status == AssignmentStatus.PENDING
    applicant = client_for(app, application.created_by)
    for path in paths["get"][:4] + paths["post"]:
        response = applicant.get(path) if path in paths["get"] else applicant.post(path, data={"reason": "x"})
        assert response.status_code in (403, 404), path

    own = client_for(app, mine)
    assert own.get(f"/applications/{application.id}").status_code == 200
    assert own.get(f"/assessment/assignments/{assignment.id}").status_code == 200
    own.post(f"/assessment/assignments/{assignment.id}/accept")
    for path in paths["get"][:5]:
        assert own.get(path).status_code == 200, path


@pytest.mark.parametrize("path", ["/assessment/", "/assessment/agencies", "/assessment/bulk"])
@pytest.mark.parametrize("role", ["assessor", "applicant"])
def test_only_administrators_manage_assignments(client, login_as, db, path, role):
    login_as(role)
    response = client.post(path) if path.endswith("bulk") else client.get(path)
    assert response.status_code in (302, 403, 404)
    assert response.status_code != 200


@pytest.mark.parametrize("language", ["en", "zh"])
def test_the_administrators_pages_render_in_both_languages(client, login_as, db, language):
    login_as("admin")
    application = factories.make_submitted_application()
    assessor = factories.make_assessor()
    db.session.commit()
    headers = {"Accept-Language": language}
    for path in ["/assessment/", f"/assessment/applications/{application.id}", "/assessment/agencies",
                 f"/assessment/agencies/{assessor.organisation_id}", f"/assessment/assessors/{assessor.id}",
                 f"/applications/{application.id}"]:
        assert client.get(path, headers=headers).status_code == 200, path


def test_an_admin_registers_an_agency_and_records_an_assessors_expertise(client, login_as, db):
    login_as("admin")
    response = client.post("/assessment/agencies", headers=EN, data={
        "organisation_name": "四川绿评技术服务有限公司", "credit_code": factories.credit_code(),
        "city_code": "510100", "legal_representative": "李法人", "qualification": "专职评价人员 12 名"})
    assert response.status_code == 302
    agency_id = int(response.headers["Location"].rsplit("/", 1)[1])
    assessor = factories.make_user("assessor", organisation=factories.db.session.get(
        factories.Organisation, agency_id))
    db.session.commit()
    client.post(f"/assessment/assessors/{assessor.id}", data={
        "kinds": ["factory", "park"], "industries": ["31", "32"], "city_code": "510700", "title": "高级工程师"})
    profile = assessor_profile(assessor)
    assert (profile.kinds, profile.industries, profile.city_code) == (["factory", "park"], ["31", "32"], "510700")


def test_an_assessor_declares_their_own_conflicts_but_cannot_withdraw_them(app, db):
    assessor = factories.make_assessor()
    enterprise = factories.make_organisation()
    db.session.commit()
    browser = client_for(app, assessor)
    response = browser.post(f"/assessment/assessors/{assessor.id}/conflicts", data={
        "credit_code": enterprise.credit_code.lower(), "relation": "consulted",
        "starts_on": "2024-03-01", "ends_on": "2024-12-31"})
    assert response.status_code == 302
    declaration = db.session.execute(select(ConflictDeclaration)).scalar_one()
    assert (declaration.credit_code, declaration.organisation_name) == (enterprise.credit_code, enterprise.name)
    assert browser.post(f"/assessment/conflicts/{declaration.id}/withdraw").status_code == 403
    other = factories.make_assessor()
    db.session.commit()
    assert browser.get(f"/assessment/assessors/{other.id}").status_code == 404
