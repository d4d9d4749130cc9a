"""Every change leaves an audit event, and the events form a chain that shows tampering."""

from sqlalchemy import select, update

from certify.audit.keys import load_key
from certify.audit.models import AuditEvent
from certify.audit.services import GENESIS_HASH, record_event, verify_chain
from tests import factories


def test_each_event_links_to_the_one_before(db):
    actor = factories.make_user("admin")
    for number in range(5):
        record_event("thing.done", actor=actor, object_type="thing", object_id=number,
                     details={"n": number, "名称": "绿色工厂"})
    db.session.commit()
    events = db.session.execute(select(AuditEvent).order_by(AuditEvent.id)).scalars().all()
    assert events[0].prev_hash == GENESIS_HASH
    for before, after in zip(events, events[1:], strict=False):
        assert after.prev_hash == before.hash
    # Each hash is an HMAC with the audit key kept outside the database (see test_audit_keyed).
    assert {event.key_id for event in events} == {load_key().id}
    assert verify_chain() == (5, [])


def test_editing_an_event_is_detected_at_that_row(db):
    for number in range(4):
        record_event("thing.done", object_type="thing", object_id=number, details={"n": number})
    db.session.commit()
    third = db.session.execute(select(AuditEvent).order_by(AuditEvent.id).offset(2).limit(1)).scalar_one()
    db.session.execute(update(AuditEvent).where(AuditEvent.id == third.id).values(details={"n": 99}))
    db.session.commit()
    checked, breaks = verify_chain()
    assert checked == 4
    assert [b.event_id for b in breaks] == [third.id]


def test_deleting_an_event_is_detected_at_the_next_row(db):
    for number in range(4):
        record_event("thing.done", object_type="thing", object_id=number)
    db.session.commit()
    events = db.session.execute(select(AuditEvent).order_by(AuditEvent.id)).scalars().all()
    db.session.delete(events[1])
    db.session.commit()
    _, breaks = verify_chain()
    assert [b.event_id for b in breaks] == [events[2].id]


def test_events_survive_the_round_trip_through_the_database(db):
    # Times and JSON come back from the database in the form that was hashed.
    record_event("thing.done", object_type="thing", object_id="x",
                 details={"nested": {"list": [1, "二", None]}, "flag": True})
    db.session.commit()
    db.session.expire_all()
    assert verify_chain() == (1, [])



def test_the_chain_holds_across_commits_rollbacks_and_other_sessions(app, db):
    # Within a transaction each event follows the one the transaction appended last; a new
    # transaction starts again from the newest row, whoever wrote it.
    record_event("thing.done", object_type="thing", object_id=1)
    record_event("thing.done", object_type="thing", object_id=2)
    db.session.commit()
    record_event("thing.dropped", object_type="thing", object_id=3)
    db.session.rollback()
    with app.app_context():  # another session, as another process would have
        record_event("thing.done", object_type="thing", object_id=4)
        db.session.commit()
    record_event("thing.done", object_type="thing", object_id=5)
    record_event("thing.done", object_type="thing", object_id=6)
    db.session.commit()
    objects = db.session.execute(select(AuditEvent.object_id).order_by(AuditEvent.id)).scalars().all()
    assert objects == ["1", "2", "4", "5", "6"]
    assert verify_chain() == (5, [])


def test_the_audit_log_reads_in_the_reader_s_language(client, login_as, db):
    from certify.publication import services as publication

    admin = login_as("admin")
    application = factories.approved_application(admin=admin, subject="成都绿色供应链")
    batch = publication.create_batch(admin, title="2026年第二批公示", kinds=["supply_chain"])
    publication.add_to_batch(admin, batch, [application])
    publication.open_notice(admin, batch)
    db.session.commit()
    page = client.get("/admin/audit", headers={"Accept-Language": "zh"}).get_data(as_text=True)
    rows = page.split('<table class="table audit-log">')[1]
    assert "公示已开始" in rows and "进入公示" in rows           # actions named, not only coded
    assert f'<a href="/admin/batches/{batch.id}">2026年第二批公示</a>' in rows  # objects by name, linked
    assert f'<a href="/applications/{application.id}">{application.reference} 成都绿色供应链</a>' in rows
    assert "<dt>原状态</dt><dd>已批准</dd>" in rows and "<dt>新状态</dt><dd>公示中</dd>" in rows
    assert "\\u" not in rows and "2026年第二批公示" in rows.split("批次已创建")[1]  # Chinese as Chinese
