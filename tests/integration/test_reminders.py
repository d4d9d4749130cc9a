"""Reminders (``flask reminders send``, run daily): certificates about to expire, declarations
coming due, assessments coming due and overdue, and objections awaiting resolution — each to the
right people, in their language, once in its window. (Declarations missed: see
test_missed_declarations.py.)"""

import io
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from certify.auth.models import Role, User
from certify.mail.models import MailMessage
from certify.management import services
from certify.management.reminders import send_reminders
from certify.publication import services as publication
from certify.timeutil import local_today
from tests import factories


@pytest.fixture()
def admin(db):
    return factories.make_user(Role.ADMIN, email="admin@example.com", preferred_language="en")


def mails(db) -> list[MailMessage]:
    return db.session.execute(select(MailMessage).order_by(MailMessage.id)).scalars().all()


def run(app, db, today=None):
    results = send_reminders(app.config, today or local_today(), commit=db.session.commit)
    return {sent.kind.value: sent.lines for sent in results}


def certificate_expiring_in(days: int, admin, **fields):
    certificate = factories.issued_certificate(admin=admin, **fields)
    certificate.valid_until = local_today() + timedelta(days=days)
    return certificate


def test_a_certificate_about_to_expire_is_reminded_once_to_the_organisation(app, db, admin):
    certificate = certificate_expiring_in(60, admin)
    holder = certificate.application.created_by
    colleague = factories.make_user(Role.APPLICANT, organisation=holder.organisation,
                                    preferred_language="en")
    certificate_expiring_in(120, admin)  # outside the 90 days
    db.session.commit()
    before = len(mails(db))

    first = run(app, db)
    second = run(app, db)

    sent = mails(db)[before:]
    assert sorted(m.recipient for m in sent) == sorted([holder.email, colleague.email])
    chinese = next(m for m in sent if m.recipient == holder.email)
    english = next(m for m in sent if m.recipient == colleague.email)
    assert certificate.number in chinese.subject  # rendered in Chinese once the catalogue has it
    assert english.subject.startswith(f"Certificate {certificate.number} expires on")
    assert f"/applications/{certificate.application_id}/re-evaluation" in english.body
    assert len(first["certificate_expiry"]) == 1 and second["certificate_expiry"] == []


def test_the_expiry_window_comes_from_the_configuration(app, db, admin, monkeypatch):
    monkeypatch.setitem(app.config, "CERTIFY_EXPIRY_REMINDER_DAYS", 30)
    certificate_expiring_in(60, admin)
    db.session.commit()
    assert run(app, db)["certificate_expiry"] == []


def test_a_revoked_certificate_is_not_reminded(app, db, admin):
    from certify.certificates.services import revoke_certificate

    certificate = certificate_expiring_in(10, admin)
    revoke_certificate(admin, certificate, "falsification", "数据造假")
    db.session.commit()
    assert run(app, db)["certificate_expiry"] == []


def test_a_declaration_coming_due_is_reminded_once_until_it_is_submitted(app, db, admin):
    certificate = certificate_expiring_in(700, admin)
    certificate.valid_from = date(2024, 1, 1)
    db.session.commit()
    period = services.current_period()
    ten_days_before = period - timedelta(days=10)

    first = run(app, db, ten_days_before)
    second = run(app, db, ten_days_before + timedelta(days=1))

    assert len(first["declaration_due"]) == 1 and second["declaration_due"] == []
    holder = certificate.application.created_by
    assert any(m.recipient == holder.email and f"/declarations/applications/{certificate.application_id}"
               in m.body for m in mails(db))


def test_an_organisation_listed_during_the_period_is_not_reminded_to_declare(app, db, admin):
    certificate_expiring_in(700, admin)  # valid from today: listed during the current period
    db.session.commit()
    period = services.current_period()
    assert run(app, db, max(period - timedelta(days=5), local_today()))["declaration_due"] == []


def test_an_overdue_assessment_is_reminded_to_the_assessor_and_the_admins_once_a_day(app, db, admin):
    assessor = factories.make_assessor(preferred_language="en")
    application = factories.make_submitted_application()
    [assignment] = factories.assign(application, assessor, admin=admin)
    on_time = factories.make_submitted_application()
    factories.assign(on_time, factories.make_assessor(), admin=admin)
    assignment.due_on = local_today() - timedelta(days=2)
    db.session.commit()
    before = len(mails(db))

    first = run(app, db)
    second = run(app, db)

    sent = mails(db)[before:]
    assert sorted(m.recipient for m in sent) == sorted([assessor.email, admin.email])
    to_assessor = next(m for m in sent if m.recipient == assessor.email)
    assert to_assessor.subject == f"Assessment overdue: {application.reference}"
    assert f"/assessment/assignments/{assignment.id}" in to_assessor.body
    to_admin = next(m for m in sent if m.recipient == admin.email)
    assert application.reference in to_admin.body and on_time.reference not in to_admin.body
    assert len(first["assessment_overdue"]) == 2 and second["assessment_overdue"] == []
    assert len(run(app, db, local_today() + timedelta(days=1))["assessment_overdue"]) == 2


def test_an_assessment_coming_due_is_reminded_to_its_assessor_once_per_due_date(app, db, admin):
    from certify.assessment.assignment import accept_assignment

    assessor = factories.make_assessor(preferred_language="en")
    application = factories.make_submitted_application()
    [soon] = factories.assign(application, assessor, admin=admin, due_on=local_today() + timedelta(days=5))
    accept_assignment(assessor, soon)
    later_assessor = factories.make_assessor()
    [later] = factories.assign(factories.make_submitted_application(), later_assessor, admin=admin,
                               due_on=local_today() + timedelta(days=10))
    db.session.commit()
    before = len(mails(db))

    first = run(app, db)
    second = run(app, db, local_today() + timedelta(days=1))

    sent = mails(db)[before:]
    assert [m.recipient for m in sent] == [assessor.email]
    assert sent[0].subject.startswith("Assessment due on ") and sent[0].subject.endswith(application.reference)
    assert "in 5 day(s)" in sent[0].body and f"/assessment/assignments/{soon.id}" in sent[0].body
    assert len(first["assessment_due_soon"]) == 1 and second["assessment_due_soon"] == []
    # Three days on, the other assignment is within seven days of its due date.
    third = run(app, db, local_today() + timedelta(days=3))
    assert len(third["assessment_due_soon"]) == 1 and later_assessor.email in third["assessment_due_soon"][0]


def test_how_long_before_the_due_date_comes_from_the_configuration(app, db, admin, monkeypatch):
    monkeypatch.setitem(app.config, "CERTIFY_ASSESSMENT_DUE_SOON_DAYS", 3)
    factories.assign(factories.make_submitted_application(), factories.make_assessor(), admin=admin,
                     due_on=local_today() + timedelta(days=5))
    db.session.commit()
    assert run(app, db)["assessment_due_soon"] == []
    assert len(run(app, db, local_today() + timedelta(days=2))["assessment_due_soon"]) == 1


def test_a_declined_assignment_is_not_reminded_of_its_due_date(app, db, admin):
    from certify.assessment.assignment import decline_assignment

    assessor = factories.make_assessor()
    [assignment] = factories.assign(factories.make_submitted_application(), assessor, admin=admin,
                                    due_on=local_today() + timedelta(days=2))
    decline_assignment(assessor, assignment, reason="有利益冲突")
    db.session.commit()
    assert run(app, db)["assessment_due_soon"] == []


def test_a_submitted_assessment_is_not_reminded(app, db, admin):
    assessor = factories.make_assessor()
    [assignment] = factories.assign(factories.make_submitted_application(), assessor, admin=admin)
    assignment.due_on = local_today() - timedelta(days=2)
    assignment.status = "declined"
    assignment.decline_reason = "有利益冲突"
    db.session.commit()
    assert run(app, db)["assessment_overdue"] == []


def objection_filed(admin, *, days_ago: int = 0, notice_ended: bool = False):
    batch = publication.create_batch(admin, title="2026年第一批绿色制造名单公示", kinds=["supply_chain"])
    publication.add_to_batch(admin, batch, [factories.approved_application(admin=admin)])
    publication.open_notice(admin, batch)
    objection = publication.file_objection(
        batch, batch.current_entries[0], name="公众", contact="x@example.com",
        text="对该单位的能耗数据有异议，请核查。", evidence=io.BytesIO(factories.PDF_BYTES),
        evidence_name="证据.pdf")
    objection.created_at -= timedelta(days=days_ago)
    if notice_ended:
        batch.notice_starts_on -= timedelta(days=30)
        batch.notice_ends_on = local_today() - timedelta(days=1)
    return objection


def test_objections_waiting_long_or_past_the_notice_are_reminded_to_the_admins_once(app, db, admin):
    old = objection_filed(admin, days_ago=10)
    past_notice = objection_filed(admin, notice_ended=True)
    fresh = objection_filed(admin)
    db.session.commit()
    assessor = factories.make_assessor()
    db.session.commit()
    before = len(mails(db))

    first = run(app, db)
    second = run(app, db)

    sent = mails(db)[before:]
    admins = db.session.execute(select(User.email).where(User.role == Role.ADMIN)).scalars().all()
    assert sorted(m.recipient for m in sent) == sorted(admins) and assessor.email not in admins
    message = next(m for m in sent if m.recipient == admin.email)
    assert message.subject == "2 objection(s) awaiting resolution"
    assert f"/admin/objections/{old.id}" in message.body
    assert f"/admin/objections/{past_notice.id}" in message.body
    assert f"/admin/objections/{fresh.id}" not in message.body
    assert len(first["objection_pending"]) == 1 and second["objection_pending"] == []


def test_flask_reminders_send_runs_everything_and_sends_nothing_more_the_second_time(app, db, admin):
    certificate_expiring_in(30, admin)
    [assignment] = factories.assign(factories.make_submitted_application(), factories.make_assessor(),
                                    admin=admin)
    assignment.due_on = local_today() - timedelta(days=1)
    factories.assign(factories.make_submitted_application(), factories.make_assessor(), admin=admin,
                     due_on=local_today() + timedelta(days=3))
    objection_filed(admin, days_ago=8)
    db.session.commit()
    runner = app.test_cli_runner()

    first = runner.invoke(args=["reminders", "send"])
    count = len(mails(db))
    second = runner.invoke(args=["reminders", "send"])

    assert first.exit_code == 0, first.output
    assert "Certificates expiring: 1 reminder(s) sent." in first.output
    assert "Overdue assessments: 2 reminder(s) sent." in first.output
    assert "Objections awaiting resolution: 1 reminder(s) sent." in first.output
    assert "Assessments due soon: 1 reminder(s) sent." in first.output
    assert second.exit_code == 0
    assert "1 reminder(s)" not in second.output and "2 reminder(s)" not in second.output
    assert len(mails(db)) == count


def test_flask_reminders_send_needs_the_public_address(app, db, monkeypatch):
    monkeypatch.setitem(app.config, "CERTIFY_BASE_URL", None)
    result = app.test_cli_runner().invoke(args=["reminders", "send"])
    assert result.exit_code != 0 and "CERTIFY_BASE_URL" in result.output
