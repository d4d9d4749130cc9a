"""A stalled assessment taken back: the department withdraws the assignment with a reason, the
application returns to the assignment queue, the sheets stay as history and are never reused, the
assessors and the applicant are told, and every step is audited."""

from datetime import timedelta

from sqlalchemy import select

from certify.assessment.models import AssignmentStatus, ScoreSheet
from certify.assessment.rounds import assignment_history, current_assignments
from certify.audit.models import AuditEvent
from certify.mail.models import MailMessage
from certify.timeutil import local_today
from certify.workflow import Status
from tests import factories
from tests.integration.test_assessment import EN, ZH, client_for
from tests.integration.test_assessment_scoring import accepted, score_all

REASON = "评价人员逾期 30 天未提交评价，亦未回复催办。"


def withdraw(client, application, reason=REASON, *, confirm=True, headers=ZH):
    data = {"reason": reason} | ({"confirm": "1"} if confirm else {})
    return client.post(f"/assessment/applications/{application.id}/withdraw", data=data, headers=headers)


def mails_to(db, address):
    return db.session.execute(select(MailMessage).where(MailMessage.recipient == address)
                              .order_by(MailMessage.id)).scalars().all()


def test_an_overdue_assessment_is_withdrawn_and_goes_back_to_the_assignment_queue(app, client, login_as, db):
    admin = login_as("admin")
    application = factories.make_submitted_application()
    lead, second = factories.make_assessor(), factories.make_assessor(preferred_language="en")
    factories.assign(application, lead, second, admin=admin)
    db.session.commit()
    lead_browser, lead_assignment = accepted(app, application, lead)
    score_all(lead_browser, lead_assignment, {})  # some work done, never submitted
    sheet_id = lead_assignment.sheet.id
    lead_assignment.due_on = local_today() - timedelta(days=30)
    db.session.commit()
    assert application.status == Status.UNDER_ASSESSMENT
    page = client.get(f"/assessment/applications/{application.id}", headers=ZH).get_data(as_text=True)
    assert "撤回评价任务" in page

    # First the consequences, nothing changed yet.
    asked = withdraw(client, application, confirm=False)
    assert asked.status_code == 200
    assert "评分表作为历史记录保留" in asked.get_data(as_text=True)
    db.session.expire_all()
    assert application.status == Status.UNDER_ASSESSMENT

    assert withdraw(client, application).status_code == 302
    db.session.expire_all()
    assert application.status == Status.SUBMITTED
    second_assignment = next(a for a in assignment_history(application) if a.assessor_id == second.id)
    for assignment in (lead_assignment, second_assignment):
        assert assignment.status == AssignmentStatus.WITHDRAWN
        assert assignment.withdrawal_reason == REASON and assignment.withdrawn_by_id == admin.id
    assert current_assignments(application) == []
    # The sheet is kept, with what was entered, as history of the withdrawn assignment.
    assert db.session.get(ScoreSheet, sheet_id).assignment_id == lead_assignment.id

    # Back in the queue: the page offers assignment again, and the history shows why.
    page = client.get(f"/assessment/applications/{application.id}", headers=ZH).get_data(as_text=True)
    assert "分配评价人员" in page and REASON in page and "已由主管部门撤回" in page
    queue = client.get("/assessment/", headers=ZH).get_data(as_text=True)
    assert application.reference in queue

    # Told: each assessor in their own language with the reason; the applicant without it.
    [lead_mail] = [m for m in mails_to(db, lead.email) if "撤回" in m.subject]
    assert REASON in lead_mail.body and "/assessment/assignments" in lead_mail.body
    [second_mail] = [m for m in mails_to(db, second.email) if "withdrawn" in m.subject]
    assert "The department has withdrawn your assignment" in second_mail.body and REASON in second_mail.body
    [applicant_mail] = [m for m in mails_to(db, application.created_by.email) if "重新分配评价人员" in m.subject]
    assert REASON not in applicant_mail.body and application.reference in applicant_mail.body

    # Audited: the application's transition and each assignment's end.
    actions = db.session.execute(select(AuditEvent.action, AuditEvent.details)).all()
    [transition] = [details for action, details in actions if action == "application.withdraw_assignment"]
    assert transition["from"] == "under_assessment" and transition["to"] == "submitted"
    assert transition["reason"] == REASON
    ended = [details for action, details in actions if action == "assignment.withdrawn"]
    assert sorted(d["assessor_id"] for d in ended) == sorted([lead.id, second.id])
    assert next(d for d in ended if d["assessor_id"] == lead.id)["sheet_id"] == sheet_id


def test_the_withdrawn_assessor_loses_access_and_a_new_assignment_opens_a_new_sheet(app, client, login_as, db):
    admin = login_as("admin")
    application = factories.make_submitted_application()
    stalled = factories.make_assessor()
    factories.assign(application, stalled, admin=admin)
    db.session.commit()
    browser, assignment = accepted(app, application, stalled)
    first_sheet = assignment.sheet.id
    assert withdraw(client, application).status_code == 302

    assert browser.get(f"/assessment/assignments/{assignment.id}").status_code == 404
    assert browser.post(f"/assessment/assignments/{assignment.id}/sheet",
                        data={"version": 1, "go": "submit"}).status_code == 404
    listed = browser.get("/assessment/assignments", headers=EN).get_data(as_text=True)
    assert "Withdrawn by the department" in listed

    # The department may even give it to the same assessor again: a fresh sheet, the old one untouched.
    factories.assign(application, stalled, admin=admin)
    db.session.commit()
    browser, again = accepted(app, application, stalled)
    assert again.id != assignment.id and again.sheet.id != first_sheet
    assert again.sheet.answers == {}


def test_a_pending_assignment_no_one_answered_can_be_withdrawn_too(client, login_as, db):
    admin = login_as("admin")
    application = factories.make_submitted_application()
    [assignment] = factories.assign(application, factories.make_assessor(), admin=admin)
    db.session.commit()
    assert application.status == Status.ASSIGNED
    assert withdraw(client, application).status_code == 302
    db.session.expire_all()
    assert application.status == Status.SUBMITTED and assignment.status == AssignmentStatus.WITHDRAWN
    assert assignment.sheet is None


def test_a_withdrawal_needs_a_reason_and_a_stalled_state(client, login_as, db):
    admin = login_as("admin")
    application = factories.make_submitted_application()
    factories.assign(application, factories.make_assessor(), admin=admin)
    db.session.commit()
    refused = withdraw(client, application, reason="  ", headers=EN)
    assert refused.status_code == 400
    assert "This field is required" in refused.get_data(as_text=True) or "Say why" in refused.get_data(as_text=True)
    db.session.expire_all()
    assert application.status == Status.ASSIGNED

    waiting = factories.make_submitted_application()
    db.session.commit()
    refused = withdraw(client, waiting, headers=EN)
    assert refused.status_code == 400
    assert "is not possible while the application is “Submitted”" in refused.get_data(as_text=True)
    assert db.session.execute(select(AuditEvent).where(
        AuditEvent.action == "application.withdraw_assignment")).first() is None


def test_only_administrators_withdraw(app, db):
    application = factories.make_submitted_application()
    assessor = factories.make_assessor()
    factories.assign(application, assessor)
    db.session.commit()
    for user in (assessor, application.created_by):
        response = client_for(app, user).post(f"/assessment/applications/{application.id}/withdraw",
                                              data={"reason": REASON, "confirm": "1"})
        assert response.status_code in (403, 404)
    db.session.expire_all()
    assert application.status == Status.ASSIGNED
