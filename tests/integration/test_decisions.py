"""Administrators decide on assessed applications, one at a time or in bulk."""

from decimal import Decimal

import pytest
from sqlalchemy import select

from certify.publication.models import Decision
from certify.workflow import Status
from tests import factories

EN = {"Accept-Language": "en"}


@pytest.mark.parametrize("outcome, status", [("approved", Status.APPROVED), ("rejected", Status.REJECTED),
                                              ("returned", Status.DRAFT)])
def test_an_admin_decides_with_a_reason(client, login_as, db, outcome, status):
    admin = login_as("admin")
    application = factories.assessed_application()
    db.session.commit()
    response = client.post(f"/admin/decisions/{application.id}", data={"outcome": outcome, "reason": "依据评价报告", "confirm": "1"})
    assert response.status_code == 302
    assert application.status == status
    decision = db.session.execute(select(Decision)).scalar_one()
    assert decision.decided_by_id == admin.id and decision.reason == "依据评价报告"


@pytest.mark.parametrize("outcome", ["rejected", "returned"])
def test_rejecting_or_returning_needs_a_reason(client, login_as, db, outcome):
    login_as("admin")
    application = factories.assessed_application()
    db.session.commit()
    response = client.post(f"/admin/decisions/{application.id}", data={"outcome": outcome, "reason": ""}, headers=EN)
    assert "needs a reason" in response.get_data(as_text=True)
    assert application.status == Status.ASSESSED


def test_an_admin_who_assessed_the_application_cannot_decide_it(client, db):
    # Someone who assessed as an assessor and later became an administrator.
    person = factories.make_user("assessor")
    application = factories.assessed_application(assessor=person)
    person.role = "admin"
    db.session.commit()
    client.post("/login", data={"email": person.email, "password": factories.PASSWORD})
    page = client.get(f"/admin/decisions/{application.id}", headers=EN).get_data(as_text=True)
    assert "You took part in assessing this application" in page
    client.post(f"/admin/decisions/{application.id}", data={"outcome": "approved"})
    assert application.status == Status.ASSESSED


def test_only_assessed_applications_can_be_decided(client, login_as, db):
    login_as("admin")
    application = factories.complete_application()
    db.session.commit()
    response = client.post(f"/admin/decisions/{application.id}", data={"outcome": "approved"}, headers=EN)
    assert "is not possible while the application is" in response.get_data(as_text=True)
    assert application.status == Status.DRAFT


def test_the_queue_lists_assessed_applications(client, login_as, db):
    login_as("admin")
    waiting = factories.assessed_application(subject="待决定的工厂")
    factories.complete_application(subject="草稿中的工厂")
    db.session.commit()
    page = client.get("/admin/decisions").get_data(as_text=True)
    assert waiting.reference in page and "待决定的工厂" in page and "草稿中的工厂" not in page


def test_a_bulk_decision_is_previewed_and_saves_nothing_until_confirmed(client, login_as, db):
    login_as("admin")
    first = factories.assessed_application()
    second = factories.assessed_application()
    draft = factories.complete_application()
    db.session.commit()
    ids = [first.id, second.id, draft.id]
    preview = client.post("/admin/decisions/bulk", data={"application_ids": ids, "outcome": "approved"}, headers=EN)
    page = preview.get_data(as_text=True)
    assert "Nothing has been saved yet." in page
    assert page.count("Will be decided") == 2 and "Left out:" in page
    assert first.status == Status.ASSESSED and second.status == Status.ASSESSED

    client.post("/admin/decisions/bulk", data={"application_ids": ids, "outcome": "approved", "confirm": "1"})
    assert first.status == Status.APPROVED and second.status == Status.APPROVED
    assert draft.status == Status.DRAFT
    assert len(db.session.execute(select(Decision)).scalars().all()) == 2


@pytest.mark.parametrize("role", ["applicant", "assessor"])
def test_only_admins_reach_the_decision_pages(client, login_as, db, role):
    login_as(role)
    application = factories.assessed_application()
    db.session.commit()
    assert client.get("/admin/decisions").status_code == 403
    assert client.post(f"/admin/decisions/{application.id}", data={"outcome": "approved"}).status_code == 403
    assert application.status == Status.ASSESSED


def test_the_decision_page_shows_the_assessors_scores_beside_the_self_assessment(client, login_as, db):
    admin = login_as("admin")
    application = factories.make_submitted_application()
    assessor = factories.make_assessor()
    [assignment] = factories.assign(application, assessor, admin=admin)
    from certify.assessment.assignment import accept_assignment

    accept_assignment(assessor, assignment)
    db.session.commit()
    page = client.get(f"/admin/decisions/{application.id}", headers=EN).get_data(as_text=True)
    assert "No submitted score sheet yet." in page


def test_rejecting_is_confirmed_on_a_page_that_says_what_will_happen(client, login_as, db):
    login_as("admin")
    application = factories.assessed_application(subject="待拒绝的供应链")
    db.session.commit()
    page = client.post(f"/admin/decisions/{application.id}", headers=EN,
                       data={"outcome": "rejected", "reason": "未达到合格分数线"}).get_data(as_text=True)
    assert f"Reject {application.reference}" in page and "待拒绝的供应链" in page and "未达到合格分数线" in page
    assert application.status == Status.ASSESSED and db.session.execute(select(Decision)).first() is None
    assert 'name="outcome" value="rejected"' in page and 'name="reason" value="未达到合格分数线"' in page


def test_the_queue_and_the_decision_page_lead_with_the_assessed_score(client, login_as, db):
    from certify.applications.models import Application
    from certify.assessment.models import Assignment, ScoreSheet
    from certify.demo.scale import load_scale

    login_as("admin")
    factories.make_assessor()
    load_scale(2, shares={Status.ASSESSED: 1.0}, echo=lambda *_: None)
    db.session.commit()
    application = db.session.execute(select(Application).where(Application.status == Status.ASSESSED)).scalars().first()
    sheet = db.session.execute(select(ScoreSheet).join(Assignment).where(
        Assignment.application_id == application.id, Assignment.role == "lead")).scalar_one()
    # The assessor found less than the applicant claimed: 92.00 against a self-score of 100.00.
    sheet.total, sheet.result = Decimal("92.00"), dict(sheet.result, total="92.00")
    db.session.commit()

    queue = client.get("/admin/decisions", headers=EN).get_data(as_text=True)
    row = next(r for r in queue.split("<tr")[1:] if application.reference in r)
    assert "<strong>92.00</strong>" in row and application.self_score_total == Decimal("100.00")
    assert queue.index("Assessed score") < queue.index("Self-score")

    page = client.get(f"/admin/decisions/{application.id}", headers=EN).get_data(as_text=True)
    lead = page.split('id="assessed-title"')[1]
    assert '<p class="figure">92.00 <small>/ 100.00</small>' in lead
    assert "The applicant's self-assessment: 100.00 / 100.00." in lead
    assert page.index('id="assessed-title"') < page.index('id="comparison-title"')
