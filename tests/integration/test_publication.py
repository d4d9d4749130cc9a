"""Batches for public notice, objections from the public, and when a batch may be announced."""

import io
from datetime import timedelta

from sqlalchemy import func, select

from certify.publication import services
from certify.publication.models import Batch, BatchStatus, Objection, ObjectionStatus
from certify.timeutil import local_today
from certify.workflow import Status
from tests import factories

EN = {"Accept-Language": "en"}


def day(d) -> str:
    """A day as the pages write it in English."""
    return f"{d.day} {d:%B} {d.year}"


def _batch_in_notice(db, *, count=2, admin=None):
    admin = admin or factories.make_user("admin")
    applications = [factories.approved_application(admin=admin) for _ in range(count)]
    batch = services.create_batch(admin, title="2026年第一批绿色制造名单", kinds=["supply_chain"])
    services.add_to_batch(admin, batch, applications)
    services.open_notice(admin, batch)
    db.session.commit()
    return batch, applications, admin


def test_an_admin_builds_a_batch_and_opens_the_notice(client, login_as, db):
    admin = login_as("admin")
    first = factories.approved_application(admin=admin)
    second = factories.approved_application(admin=admin)
    factories.assessed_application()  # not approved: cannot be added
    db.session.commit()
    response = client.post("/admin/batches", data={"title": "2026年第一批", "kinds": ["supply_chain"]})
    assert response.status_code == 302
    batch = db.session.execute(select(Batch)).scalar_one()
    # The default notice is 15 calendar days, both ends included.
    assert batch.notice_ends_on - batch.notice_starts_on == timedelta(days=14)
    page = client.get(f"/admin/batches/{batch.id}").get_data(as_text=True)
    assert first.reference in page and second.reference in page

    client.post(f"/admin/batches/{batch.id}/entries", data={"application_ids": [first.id, second.id]})
    client.post(f"/admin/batches/{batch.id}/open-notice", data={"confirm": "1"})
    assert batch.status == BatchStatus.IN_NOTICE
    assert first.status == Status.IN_NOTICE and second.status == Status.IN_NOTICE

    public = client.get(f"/notices/{batch.id}").get_data(as_text=True)
    assert first.organisation.name in public and "Raise an objection" in client.get(
        f"/notices/{batch.id}", headers=EN).get_data(as_text=True)


def test_the_notice_length_is_configurable(app, login_as, client, db):
    app.config["CERTIFY_NOTICE_DAYS"] = 7
    try:
        login_as("admin")
        client.post("/admin/batches", data={"title": "短公示", "kinds": ["factory"]})
    finally:
        app.config["CERTIFY_NOTICE_DAYS"] = 15
    batch = db.session.execute(select(Batch)).scalar_one()
    assert batch.notice_ends_on - batch.notice_starts_on == timedelta(days=6)


def test_anyone_can_object_during_the_notice_and_read_the_outcome_privately(client, db):
    batch, applications, admin = _batch_in_notice(db)
    entry = batch.current_entries[0]
    response = client.post(f"/notices/{batch.id}/entries/{entry.id}/objection", data={
        "name": "张三", "contact": "13800000000", "text": "该企业近三年发生过较大环境事件，附相关通报。",
        "evidence": (io.BytesIO(factories.PDF_BYTES), "通报.pdf")}, content_type="multipart/form-data")
    assert response.status_code == 302
    objection = db.session.execute(select(Objection)).scalar_one()
    assert objection.evidence_name == "通报.pdf" and objection.status == ObjectionStatus.OPEN
    private_page = client.get(response.headers["Location"], headers=EN)
    assert "Being examined" in private_page.get_data(as_text=True)
    assert private_page.headers["Cache-Control"] == "no-store"

    services.resolve_objection(admin, objection, upheld=False, reason="经核实，该事件等级为一般，不构成否决。")
    db.session.commit()
    page = client.get(f"/objections/{objection.token}", headers=EN).get_data(as_text=True)
    assert "Dismissed" in page and "不构成否决" in page
    assert client.get("/objections/not-the-token").status_code == 404


def test_an_upheld_objection_sends_the_entry_back_to_decision(client, login_as, db):
    batch, applications, admin = _batch_in_notice(db)
    entry = batch.current_entries[0]
    objection = services.file_objection(batch, entry, name="李四", contact="li@example.com",
                                        text="申报材料中的能耗数据与统计数据不一致。")
    db.session.commit()
    login_as(admin)
    response = client.post(f"/admin/objections/{objection.id}",
                           data={"outcome": "upheld", "reason": "异议成立，退回重新决定。"})
    assert response.status_code == 302
    assert entry.application.status == Status.ASSESSED
    assert entry.removed_at is not None
    assert len(batch.current_entries) == 1


def test_a_dismissal_needs_a_reason(client, login_as, db):
    batch, applications, admin = _batch_in_notice(db)
    objection = services.file_objection(batch, batch.current_entries[0], name="王五", contact="w@example.com",
                                        text="怀疑数据造假，请核查原始记录。")
    db.session.commit()
    login_as(admin)
    page = client.post(f"/admin/objections/{objection.id}", data={"outcome": "dismissed", "reason": ""},
                       headers=EN).get_data(as_text=True)
    assert "This field is required." in page
    assert objection.status == ObjectionStatus.OPEN


def test_objections_are_refused_outside_the_notice(client, db):
    yesterday = local_today() - timedelta(days=1)
    batch, applications, admin = _batch_in_notice(db)
    batch.notice_starts_on, batch.notice_ends_on = yesterday - timedelta(days=14), yesterday
    db.session.commit()
    entry = batch.current_entries[0]
    response = client.post(f"/notices/{batch.id}/entries/{entry.id}/objection", data={
        "name": "张三", "contact": "13800000000", "text": "notice already over, objection too late"})
    assert response.status_code == 302
    assert db.session.execute(select(Objection)).first() is None


def test_a_notice_cannot_be_announced_early(client, login_as, db):
    batch, applications, admin = _batch_in_notice(db)
    login_as(admin)
    page = client.get(f"/admin/batches/{batch.id}", headers=EN).get_data(as_text=True)
    assert f"The notice runs until {day(batch.notice_ends_on)}" in page
    # The button cannot be used, looks it, and says why.
    assert 'disabled aria-disabled="true" aria-describedby="announce-refusal"' in page
    assert '<p class="help" id="announce-refusal">The notice runs until' in page
    client.post(f"/admin/batches/{batch.id}/announce", data={"confirm": "1"})
    assert batch.status == BatchStatus.IN_NOTICE
    assert all(application.status == Status.IN_NOTICE for application in applications)


def test_a_notice_with_an_open_objection_cannot_be_announced(app, db):
    batch, applications, admin = _batch_in_notice(db)
    services.file_objection(batch, batch.current_entries[0], name="赵六", contact="z@example.com",
                            text="该企业存在未整改的节能监察问题。")
    batch.notice_ends_on = local_today() - timedelta(days=1)
    db.session.commit()
    refusal = services.announcement_refusal(batch)
    with app.test_request_context(headers=EN):
        assert str(refusal) == "Every objection must be resolved before the batch is announced."


def test_objections_are_rate_limited(client, db):
    batch, applications, admin = _batch_in_notice(db, count=1)
    entry = batch.current_entries[0]
    statuses = [client.post(f"/notices/{batch.id}/entries/{entry.id}/objection", data={
        "name": "刷屏者", "contact": "x", "text": "重复提交的异议内容，用于测试频率限制。"}).status_code for _ in range(12)]
    assert statuses[:10] == [302] * 10
    assert statuses[10:] == [429, 429]
    assert len(db.session.execute(select(Objection)).scalars().all()) == 10


def test_draft_batches_are_not_public(client, db):
    admin = factories.make_user("admin")
    batch = services.create_batch(admin, title="未公开批次", kinds=["factory"])
    db.session.commit()
    assert client.get(f"/notices/{batch.id}").status_code == 404
    assert "未公开批次" not in client.get("/notices").get_data(as_text=True)


def test_a_batch_takes_only_approved_applications_of_its_kinds(db):
    admin = factories.make_user("admin")
    batch = services.create_batch(admin, title="工厂批次", kinds=["factory"])
    supply_chain = factories.approved_application(admin=admin)
    assessed = factories.assessed_application()
    for application in (supply_chain, assessed):
        try:
            services.add_to_batch(admin, batch, [application])
        except services.ServiceError:
            continue
        raise AssertionError("added an application that does not belong on the batch")
    assert services.addable_applications(batch) == []


def test_a_notice_starts_today_or_later_and_lasts_the_whole_period(client, login_as, db, app):
    login_as("admin")
    today = local_today()
    form = {"title": "2026年第三批", "kinds": ["factory"]}
    past = client.post("/admin/batches", headers=EN, data=form | {
        "notice_starts_on": (today - timedelta(days=3)).isoformat(), "notice_ends_on": (today + timedelta(days=20)).isoformat()})
    assert "cannot start before today" in past.get_data(as_text=True)
    short = client.post("/admin/batches", headers=EN, data=form | {
        "notice_starts_on": today.isoformat(), "notice_ends_on": (today + timedelta(days=4)).isoformat()})
    assert (f"A notice lasts at least 15 days, both ends included: from {day(today)} it ends on "
            f"{day(today + timedelta(days=14))} at the earliest.") in short.get_data(as_text=True)
    assert db.session.execute(select(Batch)).first() is None
    exact = client.post("/admin/batches", headers=EN, data=form | {
        "notice_starts_on": today.isoformat(), "notice_ends_on": (today + timedelta(days=14)).isoformat()})
    assert exact.status_code == 302


def test_opening_a_notice_whose_start_has_passed_shows_the_new_dates_before_saving(client, login_as, db):
    admin = login_as("admin")
    application = factories.approved_application(admin=admin)
    batch = services.create_batch(admin, title="推迟开启的批次", kinds=["supply_chain"])
    services.add_to_batch(admin, batch, [application])
    db.session.commit()
    today = local_today()
    batch.notice_starts_on, batch.notice_ends_on = today - timedelta(days=10), today - timedelta(days=6)  # 5 days
    db.session.commit()

    page = client.post(f"/admin/batches/{batch.id}/open-notice", headers=EN).get_data(as_text=True)
    ends = today + timedelta(days=14)
    assert "What will happen" in page and "The dates planned" in page and "have been moved" in page
    assert f"The notice runs from {day(today)} to {day(ends)}: 15 days" in page
    assert batch.status == BatchStatus.DRAFT and application.status == Status.APPROVED  # nothing saved yet

    client.post(f"/admin/batches/{batch.id}/open-notice", data={"confirm": "1"})
    assert batch.status == BatchStatus.IN_NOTICE
    assert (batch.notice_starts_on, batch.notice_ends_on) == (today, ends)


def test_past_notices_stay_listed_with_their_announced_lists(client, db):
    batch, applications, admin = _batch_in_notice(db)
    batch.notice_starts_on, batch.notice_ends_on = local_today() - timedelta(days=20), local_today() - timedelta(days=6)
    services.announce(admin, batch)
    db.session.commit()
    page = client.get("/notices", headers=EN).get_data(as_text=True)
    assert "No notice is running now." in page
    past = page.split("Past notices")[1]
    assert f'href="/notices/{batch.id}"' in past and f'href="/lists/{batch.id}"' in past and "2 entries" in past
    assert client.get(f"/notices/{batch.id}").status_code == 200


def test_announcing_audits_and_mails_each_entry_as_the_workflow_step_does(db):
    from certify.audit.models import AuditEvent
    from certify.audit.services import verify_chain
    from certify.mail.models import MailMessage
    from certify.notifications import recipients
    from certify.workflow import Action, find

    batch, applications, admin = _batch_in_notice(db, count=3)
    batch.notice_starts_on, batch.notice_ends_on = local_today() - timedelta(days=20), local_today() - timedelta(days=6)
    step = find(Status.IN_NOTICE, Action.ANNOUNCE)
    expected_mail = sum(len([p for p in recipients(a, step) if p.id != admin.id]) for a in applications)
    first_event = db.session.execute(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1)).scalar()
    mails_before = len(db.session.execute(select(MailMessage.id)).all())

    certificates = services.announce(admin, batch)
    db.session.commit()

    events = db.session.execute(select(AuditEvent).where(AuditEvent.id > first_event)
                                .order_by(AuditEvent.id)).scalars().all()
    ids = [str(application.id) for application in applications]
    assert [(e.action, e.object_type, e.object_id, e.actor_id, e.details) for e in events[:3]] == [
        ("application.announce", "applications", i, admin.id,
         {"from": "in_notice", "to": "listed", "reason": "", "batch_id": batch.id}) for i in ids]
    assert [(e.action, e.object_id) for e in events[3:]] == [
        *(("certificate.issued", str(c.id)) for c in certificates),
        ("batch.announced", str(batch.id)),
        # Inline, after the commit: the public files, then the PDFs.
        ("batch.exports_stored", str(batch.id)),
        *(("certificate.rendered", str(c.id)) for c in certificates)]
    assert all(application.status == Status.LISTED for application in applications)
    assert len(db.session.execute(select(MailMessage.id)).all()) - mails_before == expected_mail > 0
    assert verify_chain()[1] == []


def test_an_announcement_mails_each_units_people_of_their_own_application_in_their_language(db):
    from certify.mail.models import MailMessage

    admin = factories.make_user("admin")
    first = factories.approved_application(admin=admin)
    second = factories.approved_application(admin=admin)
    applicant = first.organisation.users[0]
    colleague = factories.make_user("applicant", organisation=first.organisation, preferred_language="en")
    factories.make_user("applicant", organisation=first.organisation, is_active=False)
    factories.make_user("applicant", organisation=first.organisation, password_hash=None)  # invited
    other = second.organisation.users[0]
    batch = services.create_batch(admin, title="2026年第二批绿色制造名单", kinds=["supply_chain"])
    services.add_to_batch(admin, batch, [first, second])
    services.open_notice(admin, batch)
    batch.notice_starts_on, batch.notice_ends_on = local_today() - timedelta(days=20), local_today() - timedelta(days=6)
    db.session.commit()
    before = db.session.execute(select(func.max(MailMessage.id))).scalar() or 0

    services.announce(admin, batch)
    db.session.commit()

    mails = db.session.execute(select(MailMessage).where(MailMessage.id > before)
                               .order_by(MailMessage.id)).scalars().all()
    assert sorted(mail.recipient for mail in mails) == sorted([applicant.email, colleague.email, other.email])
    by_recipient = {mail.recipient: mail for mail in mails}
    assert first.reference in by_recipient[applicant.email].subject
    assert first.reference in by_recipient[colleague.email].subject
    assert second.reference in by_recipient[other.email].subject
    assert first.reference in by_recipient[applicant.email].body and first.reference in by_recipient[colleague.email].body
    assert by_recipient[applicant.email].body.startswith(f"{applicant.name}，您好")
    assert by_recipient[colleague.email].body.startswith(f"Hello {colleague.name},")
