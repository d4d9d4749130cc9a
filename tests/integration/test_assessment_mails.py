"""The assessment's e-mails, each from its own template and in the recipient's language: the
assessor is told of an assignment; the administrator who made it, of the answer; a second
assessor, of a cancellation when the lead declines; the applicant, of questions returned.
(Withdrawal: test_assignment_withdrawal.py; due soon and overdue: the reminders' tests.)"""

from flask_babel import force_locale
from sqlalchemy import select

from certify.applications import services as application_services
from certify.i18n import date_text
from certify.mail.models import MailMessage
from tests import factories
from tests.integration.test_assessment import EN, client_for


def mails_to(db, user) -> list[MailMessage]:
    return db.session.execute(select(MailMessage).where(MailMessage.recipient == user.email)
                              .order_by(MailMessage.id)).scalars().all()


def assignment_of(application, assessor):
    from certify.assessment.rounds import current_assignments

    return next(a for a in current_assignments(application) if a.assessor_id == assessor.id)


def test_each_assessor_is_told_of_the_assignment_in_their_own_language(app, db):
    admin = factories.make_user("admin")
    application = factories.make_submitted_application()
    lead = factories.make_assessor(preferred_language="zh")
    second = factories.make_assessor(preferred_language="en")
    factories.assign(application, lead, second, admin=admin)
    db.session.commit()

    [chinese] = mails_to(db, lead)
    assert chinese.subject == f"新的评价任务：{application.reference}"
    assert "担任主评价人员" in chinese.body and application.organisation.name in chinese.body
    with app.test_request_context(), force_locale("zh"):
        due = assignment_of(application, lead).due_on
        assert f"评价截止日期为{date_text(due)}" in chinese.body
        assert f"/assessment/assignments/{assignment_of(application, lead).id}" in chinese.body
    [english] = mails_to(db, second)
    assert english.subject == f"New assessment: {application.reference}"
    assert "assigned you as Second assessor" in english.body and "Please accept or decline" in english.body


def test_the_assigning_administrator_hears_the_answers(app, db):
    admin = factories.make_user("admin", preferred_language="en")
    colleague = factories.make_user("admin")
    application = factories.make_submitted_application()
    lead, second = factories.make_assessor(name="李评价"), factories.make_assessor(name="赵评价")
    factories.assign(application, lead, second, admin=admin)
    db.session.commit()
    before = {person.id: len(mails_to(db, person)) for person in (admin, colleague)}

    browser = client_for(app, lead)
    assert browser.post(f"/assessment/assignments/{assignment_of(application, lead).id}/accept").status_code == 302
    [accepted] = mails_to(db, admin)[before[admin.id]:]
    assert accepted.subject == f"Assignment accepted: {application.reference}"
    assert "李评价" in accepted.body and "Lead assessor" in accepted.body

    browser = client_for(app, second)
    response = browser.post(f"/assessment/assignments/{assignment_of(application, second).id}/decline",
                            data={"reason": "与申请单位存在咨询关系"}, headers=EN)
    assert response.status_code == 302
    [_accepted, declined] = mails_to(db, admin)[before[admin.id]:]
    assert declined.subject == f"Assignment declined: {application.reference}"
    assert "与申请单位存在咨询关系" in declined.body and "you may add another second assessor" in declined.body
    # Only the administrator who assigned them is told, not every administrator.
    assert len(mails_to(db, colleague)) == before[colleague.id]


def test_a_lead_who_declines_ends_the_second_assessors_assignment_and_both_are_told(app, db):
    admin = factories.make_user("admin")
    application = factories.make_submitted_application()
    lead, second = factories.make_assessor(), factories.make_assessor()
    factories.assign(application, lead, second, admin=admin)
    db.session.commit()
    browser = client_for(app, lead)
    browser.post(f"/assessment/assignments/{assignment_of(application, lead).id}/decline",
                 data={"reason": "近三年为该企业提供过咨询服务"})
    [*_, declined] = mails_to(db, admin)
    assert declined.subject.startswith("评价任务被拒绝") and "请重新分配评价人员" in declined.body
    [_assigned, cancelled] = mails_to(db, second)
    assert cancelled.subject == f"评价任务已取消：{application.reference}"
    assert "您作为第二评价人员的任务随之终止" in cancelled.body


def test_the_applicant_is_told_the_questions_when_the_application_is_returned(app, db):
    application = factories.assessed_application()
    applicant = application.created_by
    applicant.preferred_language = "en"
    admin = factories.make_user("admin")
    db.session.commit()
    with app.test_request_context():
        application_services.return_application(admin, application, note="请补充 2025 年单位产品综合能耗的计算过程。")
    db.session.commit()
    [*_, returned] = mails_to(db, applicant)
    assert returned.subject == f"Questions on your application {application.reference}"
    assert "请补充 2025 年单位产品综合能耗的计算过程。" in returned.body
    assert "It is a draft again" in returned.body and f"/applications/{application.id}" in returned.body
