"""Missed self-declarations: the department sees, for each closed period, the listed units that did
not declare, with the reminders sent; a unit declares late for a period it missed and the
declaration is marked late; missing periods in a row brings a warning, then a proposal for review
under ongoing management — each step mailed in the recipient's language, recorded, and sent once."""

from datetime import datetime, time, timedelta

import pytest
from sqlalchemy import select

from certify.audit.models import AuditEvent
from certify.auth.models import Role
from certify.mail.models import MailMessage
from certify.management import services
from certify.management.models import Declaration, DeclarationStatus
from certify.management.periods import period_start
from certify.management.reminders import send_reminders
from certify.timeutil import LOCAL_TIMEZONE, local_today
from tests import factories

EN = {"Accept-Language": "en"}
ALL_TRUE = {"no_major_accident": "yes", "no_environmental_event": "yes", "no_change": "yes"}
SAME_VALUES = {"a-X26": "100", "a-X41": "100", "a-X42": "100"} | ALL_TRUE


@pytest.fixture()
def admin(db):
    return factories.make_user(Role.ADMIN, email="admin@example.com", preferred_language="en")


def closed(n: int):
    """The n-th most recent closed period (1: the last one)."""
    return services.closed_periods()[n - 1]


def listed_before(admin, periods: int, applicant=None, **fields):
    """A listed application whose certificate was issued the day before the ``periods``-th most
    recent closed period began: it was due to declare for that many closed periods."""
    day = period_start(closed(periods), services.due_dates()) - timedelta(days=1)
    return factories.issued_certificate_at(datetime.combine(day, time(12), LOCAL_TIMEZONE), applicant,
                                           admin=admin, **fields).application


def run(app, db, today=None):
    results = send_reminders(app.config, today or local_today(), commit=db.session.commit)
    return {sent.kind.value: sent.lines for sent in results}


def mails_to(db, email, after: int = 0) -> list[MailMessage]:
    return db.session.execute(select(MailMessage).where(MailMessage.recipient == email,
                                                        MailMessage.id > after)
                              .order_by(MailMessage.id)).scalars().all()


def last_mail_id(db) -> int:
    return max(db.session.execute(select(MailMessage.id)).scalars(), default=0)


def actions_on(db, application) -> list[str]:
    return db.session.execute(select(AuditEvent.action).where(
        AuditEvent.object_type == "applications", AuditEvent.object_id == str(application.id))
        .order_by(AuditEvent.id)).scalars().all()


def row_of(page: str, text: str) -> str:
    return page.split(text)[0].rsplit("<tr", 1)[1] + page.split(text)[1].split("</tr>")[0]


# ---- the department's list ---------------------------------------------------------------------

def test_the_department_sees_who_did_not_declare_for_a_closed_period_with_the_reminders_sent(
        app, client, login_as, db, admin):
    silent = listed_before(admin, 1, subject="未申报的供应链")
    late = listed_before(admin, 1, subject="补报的供应链")
    new = factories.issued_certificate(admin=admin, subject="新列入的供应链").application
    db.session.commit()
    run(app, db, closed(1) - timedelta(days=10))  # the reminder before the due date
    login_as(late.created_by)
    client.post(f"/declarations/applications/{late.id}?period={closed(1).isoformat()}",
                data=SAME_VALUES | {"go": "submit"})
    client.post("/logout")
    login_as(admin)

    page = client.get("/admin/declarations/missed", headers=EN).get_data(as_text=True)

    assert "未申报的供应链" in page
    assert "补报的供应链" not in page      # declared, late
    assert "新列入的供应链" not in page    # listed after the period began: nothing was due
    row = row_of(page, "未申报的供应链")
    assert silent.organisation.name in row and silent.reference in row
    assert "Green supply-chain management enterprise" in row
    assert "Reminder before the due date" in row and "1 recipient(s)" in row
    assert "1 declaration(s) for this period submitted late" in page
    assert new.reference not in page


def test_each_closed_period_has_its_own_list_and_a_wrong_period_shows_the_last(
        client, login_as, db, admin):
    older = listed_before(admin, 2, subject="两期未申报")
    login_as(admin)

    earlier = client.get(f"/admin/declarations/missed?period={closed(2).isoformat()}", headers=EN)
    wrong = client.get("/admin/declarations/missed?period=not-a-date", headers=EN)

    assert "两期未申报" in earlier.get_data(as_text=True)
    assert f"selected value=\"{closed(2).isoformat()}\"" in earlier.get_data(as_text=True)
    assert wrong.status_code == 200
    assert f"selected value=\"{closed(1).isoformat()}\"" in wrong.get_data(as_text=True)
    assert older.reference in wrong.get_data(as_text=True)


def test_the_list_is_reached_from_the_declarations_page_and_the_workbench(
        app, client, login_as, db, admin):
    listed_before(admin, 2)
    listed_before(admin, 1)
    db.session.commit()
    run(app, db)  # one warning, one proposal
    login_as(admin)

    assert "/admin/declarations/missed" in client.get("/admin/declarations").get_data(as_text=True)
    bench = client.get("/workbench", headers=EN).get_data(as_text=True)
    card = bench.split('href="/admin/declarations/missed"')[1].split("</article>")[0]
    assert '<p class="figure">2</p>' in card and "1 proposed for review" in card


def test_only_administrators_see_the_missed_declarations(client, login_as, db):
    login_as("applicant")
    assert client.get("/admin/declarations/missed").status_code == 403


# ---- declaring late ----------------------------------------------------------------------------

def test_a_late_declaration_for_a_missed_period_is_accepted_and_marked_late(
        client, login_as, db, admin):
    application = listed_before(admin, 1, subject="补报的供应链")
    db.session.commit()
    period = closed(1)
    login_as(application.created_by)

    index = client.get("/declarations", headers=EN).get_data(as_text=True)
    link = f"/declarations/applications/{application.id}?period={period.isoformat()}"
    assert "Not declared for the period due" in index and link in index
    form = client.get(link, headers=EN).get_data(as_text=True)
    assert "Late self-declaration for the period due" in form
    assert "it will be marked as submitted late" in form

    client.post(link, data=SAME_VALUES | {"go": "save"})
    assert "Continue the late declaration" in client.get("/declarations", headers=EN).get_data(as_text=True)
    response = client.post(link, data=SAME_VALUES | {"go": "submit"})

    declaration = db.session.execute(select(Declaration).where(
        Declaration.application_id == application.id)).scalar_one()
    assert response.headers["Location"].endswith(f"/declarations/{declaration.id}")
    assert (declaration.period, declaration.status, declaration.is_late) == (
        period, DeclarationStatus.SUBMITTED, True)
    shown = client.get(f"/declarations/{declaration.id}", headers=EN).get_data(as_text=True)
    assert '<span class="badge badge-no">late</span>' in shown
    index = client.get("/declarations", headers=EN).get_data(as_text=True)
    assert "Not declared for the period due" not in index
    assert "Declared late for the period due" in index
    submitted = db.session.execute(select(AuditEvent).where(
        AuditEvent.action == "declaration.submitted")).scalar_one()
    assert submitted.details["is_late"] is True
    client.post("/logout")

    login_as(admin)
    received = client.get(f"/admin/declarations?period={period.isoformat()}", headers=EN).get_data(as_text=True)
    assert ">late</span>" in row_of(received, "补报的供应链")
    detail = client.get(f"/admin/declarations/{declaration.id}", headers=EN).get_data(as_text=True)
    assert '<span class="badge badge-no">late</span>' in detail


def test_a_declaration_for_the_current_period_is_not_late(client, login_as, db, admin):
    application = listed_before(admin, 1)
    db.session.commit()
    login_as(application.created_by)

    client.post(f"/declarations/applications/{application.id}", data=SAME_VALUES | {"go": "submit"})

    declaration = db.session.execute(select(Declaration)).scalar_one()
    assert declaration.period == services.current_period() and declaration.is_late is False


@pytest.mark.parametrize("asked", ["future", "before listing", "not a due date", "not a date"])
def test_only_the_current_period_or_one_missed_can_be_declared(client, login_as, db, admin, asked):
    application = listed_before(admin, 1)
    db.session.commit()
    period = {"future": services.current_period() + timedelta(days=366),
              "before listing": closed(2), "not a due date": closed(1) - timedelta(days=3)}.get(asked)
    text = period.isoformat() if period else "2026-02-30"
    login_as(application.created_by)
    url = f"/declarations/applications/{application.id}?period={text}"

    shown = client.get(url, headers=EN, follow_redirects=True)
    sent = client.post(url, data=SAME_VALUES | {"go": "submit"}, headers=EN)

    assert shown.status_code == 200 and "There is no declaration to make for this period" in shown.get_data(as_text=True)
    assert sent.status_code == 302 and sent.headers["Location"].endswith("/declarations")
    assert db.session.execute(select(Declaration)).first() is None


def test_another_organisation_cannot_declare_late_for_a_listing(client, login_as, db, admin):
    application = listed_before(admin, 1)
    db.session.commit()
    login_as("applicant")
    url = f"/declarations/applications/{application.id}?period={closed(1).isoformat()}"
    assert client.get(url).status_code == 404
    assert client.post(url, data=SAME_VALUES | {"go": "submit"}).status_code == 404
    assert db.session.execute(select(Declaration)).first() is None


# ---- escalation ----------------------------------------------------------------------------------

def test_a_first_period_missed_brings_a_warning_in_each_user_s_language_once(app, db, admin):
    application = listed_before(admin, 1, subject="未申报的供应链")
    holder = application.created_by
    colleague = factories.make_user(Role.APPLICANT, organisation=holder.organisation,
                                    preferred_language="en")
    db.session.commit()
    before = last_mail_id(db)

    first = run(app, db)
    second = run(app, db, local_today() + timedelta(days=1))

    assert len(first["declaration_missed_warning"]) == 1 and second["declaration_missed_warning"] == []
    assert first["declaration_review_proposal"] == []
    [english] = mails_to(db, colleague.email)
    assert english.subject == f"Self-declaration missed: {application.reference}"
    assert "Periods missed in a row: 1." in english.body
    assert f"/declarations/applications/{application.id}?period={closed(1).isoformat()}" in english.body
    [chinese] = mails_to(db, holder.email, after=before)
    assert application.reference in chinese.subject  # in Chinese once the catalogue has it
    assert mails_to(db, admin.email, after=before) == []
    assert actions_on(db, application).count("declaration.missed_warning") == 1


def test_missing_again_brings_a_proposal_for_review_shown_to_the_department(
        app, client, login_as, db, admin):
    holder = factories.make_user(Role.APPLICANT, preferred_language="en")
    application = listed_before(admin, 2, holder, subject="两期未申报")
    other_admin = factories.make_user(Role.ADMIN)
    db.session.commit()
    before = last_mail_id(db)
    run(app, db, closed(2) + timedelta(days=1))   # the day after the earlier period closed

    first = run(app, db)
    again = run(app, db)

    assert len(first["declaration_review_proposal"]) == 2  # the listing, and the list to the admins
    assert again["declaration_review_proposal"] == []
    [to_admin] = mails_to(db, admin.email, after=before)
    assert to_admin.subject == "1 listing(s) proposed for review: self-declarations missed"
    assert application.reference in to_admin.body and "2 period(s) missed in a row" in to_admin.body
    assert f"/admin/declarations/missed?period={closed(1).isoformat()}" in to_admin.body
    assert len(mails_to(db, other_admin.email, after=before)) == 1
    warned, told = mails_to(db, holder.email, after=before)
    assert warned.subject == f"Self-declaration missed: {application.reference}"
    assert told.subject == f"Listing proposed for review: {application.reference}"
    assert "for 2 period(s) in a row" in told.body
    assert actions_on(db, application)[-2:] == ["declaration.missed_warning", "declaration.review_proposed"]
    login_as(admin)
    page = client.get("/admin/declarations/missed", headers=EN).get_data(as_text=True)
    row = row_of(page, "两期未申报")
    assert "Proposed for review" in row and '<td data-label="Missed in a row">2</td>' in row
    earlier = client.get(f"/admin/declarations/missed?period={closed(2).isoformat()}",
                         headers=EN).get_data(as_text=True)
    assert "Warned" in row_of(earlier, "两期未申报") and '<td data-label="Missed in a row">1</td>' in row_of(earlier, "两期未申报")


def test_a_late_declaration_ends_the_run_of_misses(app, client, login_as, db, admin):
    application = listed_before(admin, 2)
    db.session.commit()
    login_as(application.created_by)
    client.post(f"/declarations/applications/{application.id}?period={closed(2).isoformat()}",
                data=SAME_VALUES | {"go": "submit"})

    sent = run(app, db)

    assert len(sent["declaration_missed_warning"]) == 1 and sent["declaration_review_proposal"] == []


def test_the_number_of_misses_for_each_step_comes_from_the_configuration(app, db, admin, monkeypatch):
    monkeypatch.setitem(app.config, "CERTIFY_MISSED_WARNING_AFTER", 2)
    monkeypatch.setitem(app.config, "CERTIFY_MISSED_REVIEW_AFTER", 3)
    listed_before(admin, 1)
    twice = listed_before(admin, 2)
    db.session.commit()

    sent = run(app, db)

    assert len(sent["declaration_missed_warning"]) == 1 and twice.reference in sent["declaration_missed_warning"][0]
    assert sent["declaration_review_proposal"] == []


@pytest.mark.parametrize("warning, review", [(0, 2), (3, 2)])
def test_thresholds_that_make_no_sense_are_refused_at_start(make_app, warning, review):
    with pytest.raises(ValueError, match="CERTIFY_MISSED_WARNING_AFTER"):
        make_app(CERTIFY_MISSED_WARNING_AFTER=warning, CERTIFY_MISSED_REVIEW_AFTER=review)
