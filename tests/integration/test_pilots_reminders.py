"""``flask reminders send`` reminds a construction pilot of its yearly progress report: before
the due date (the self-declarations' lead time) and once it is overdue, each once per period, to
the pilot organisation's users in their language; not a pilot whose report is filed, nor one no
longer under construction."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from certify.audit.models import AuditEvent
from certify.auth.models import Role
from certify.mail.models import MailMessage
from certify.pilots import services
from tests import factories
from tests.integration.test_pilots import file_report, make_pilot


@pytest.fixture()
def people(db):
    admin = factories.make_user(Role.ADMIN)
    applicant = factories.make_user(Role.APPLICANT)
    colleague = factories.make_user(Role.APPLICANT, organisation=applicant.organisation, preferred_language="en")
    db.session.commit()
    return admin, applicant, colleague


def run(app, db, today):
    """``flask reminders send --today <today>``: the lines it printed under each pilot reminder's
    title (``Pilot progress reports due: 1 reminder(s) sent.`` then one indented line each)."""
    result = app.test_cli_runner().invoke(args=["reminders", "send", "--today", today.isoformat()])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    sections, title = {}, None
    for line in result.output.splitlines():
        if line.startswith("  ") and title is not None:
            sections[title].append(line.strip())
        elif ":" in line:
            title = {"Pilot progress reports due": "pilot_report_due",
                     "Pilot progress reports overdue": "pilot_report_overdue"}.get(line.split(":")[0])
            if title is not None:
                sections[title] = []
    return sections


def mails_since(db, first_id: int) -> list[MailMessage]:
    return db.session.execute(select(MailMessage).where(MailMessage.id > first_id)
                              .order_by(MailMessage.id)).scalars().all()


def last_mail_id(db) -> int:
    return db.session.execute(select(MailMessage.id).order_by(MailMessage.id.desc()).limit(1)).scalar() or 0


def recipients(db, action: str) -> list[str]:
    """Who the reminders audited as ``action`` went to (one event per pilot reminded)."""
    events = db.session.execute(select(AuditEvent).where(AuditEvent.action == action)).scalars()
    return [email for event in events for email in event.details["recipients"]]


def test_a_report_coming_due_is_reminded_once_to_the_pilots_users(app, db, people):
    admin, applicant, colleague = people
    # listed this year: no report of a closed period is owed, only the current one
    application = make_pilot(applicant, admin, listed_days_ago=300)
    filed = make_pilot(factories.make_user(Role.APPLICANT), admin, subject="二号厂区", listed_days_ago=300)
    file_report(filed.created_by, filed)
    db.session.commit()
    period = services.current_period()
    before = last_mail_id(db)

    assert run(app, db, period - timedelta(days=40))["pilot_report_due"] == []  # not yet within 30 days
    first = run(app, db, period - timedelta(days=10))
    second = run(app, db, period - timedelta(days=9))

    assert [line.split(" ")[0] for line in first["pilot_report_due"]] == [application.reference]
    assert second["pilot_report_due"] == [] and first["pilot_report_overdue"] == []
    assert sorted(recipients(db, "reminder.pilot_report_due")) == sorted([applicant.email, colleague.email])
    english = next(m for m in mails_since(db, before)
                   if m.recipient == colleague.email and m.subject.startswith("Pilot"))
    assert english.subject == f"Pilot progress report due by 31 December {period.year}: {application.reference}"
    assert f"/pilots/{application.id}/report?period={period.isoformat()}" in english.body


def test_the_lead_time_is_the_declarations_one(app, db, people, monkeypatch):
    admin, applicant, _colleague = people
    make_pilot(applicant, admin, listed_days_ago=400)
    db.session.commit()
    monkeypatch.setitem(app.config, "CERTIFY_DECLARATION_REMINDER_DAYS", 5)
    assert run(app, db, services.current_period() - timedelta(days=10))["pilot_report_due"] == []


def test_an_overdue_report_is_reminded_once_with_the_link_to_file_it_late(app, db, people):
    admin, applicant, colleague = people
    application = make_pilot(applicant, admin, listed_days_ago=400)
    filed = make_pilot(factories.make_user(Role.APPLICANT), admin, subject="二号厂区", listed_days_ago=400)
    file_report(filed.created_by, filed)
    removed = make_pilot(factories.make_user(Role.APPLICANT), admin, subject="三号厂区", listed_days_ago=400)
    services.record_midterm(admin, removed, "remove", "建设进展缓慢。")
    db.session.commit()
    period = services.current_period()
    day_after = period + timedelta(days=1)
    before = last_mail_id(db)

    first = run(app, db, day_after)
    second = run(app, db, day_after + timedelta(days=1))

    assert [line.split(" ")[0] for line in first["pilot_report_overdue"]] == [application.reference]
    assert second["pilot_report_overdue"] == []
    assert sorted(recipients(db, "reminder.pilot_report_overdue")) == sorted([applicant.email, colleague.email])
    english = next(m for m in mails_since(db, before)
                   if m.recipient == colleague.email and m.subject.startswith("Pilot"))
    assert english.subject == f"Pilot progress report overdue: {application.reference}"
    assert f"/pilots/{application.id}/report?period={period.isoformat()}" in english.body
