"""`flask audit verify` finds every edited, deleted or inserted audit row at the row where the
chain first fails, and says so with exit status 1."""

import pytest
from sqlalchemy import delete, insert, select, update

from certify import ops
from certify.audit.models import AuditEvent
from certify.audit.services import record_event
from tests import factories

CHAIN_LENGTH = 6


@pytest.fixture()
def verify(make_app, db):
    """Run ``flask audit verify`` with extra arguments on a fresh app sharing the test database."""
    application = make_app()
    ops.init_app(application)
    runner = application.test_cli_runner()

    def run(*arguments):
        with application.app_context():
            return runner.invoke(args=["audit", "verify", *arguments])

    return run


def _build_chain(db, actors) -> list[AuditEvent]:
    db.session.execute(delete(AuditEvent))
    for number in range(CHAIN_LENGTH):
        record_event("thing.done", actor=actors[number % 2], object_type="thing",
                     object_id=number, details={"n": number, "名称": "绿色工厂"})
    db.session.commit()
    return db.session.execute(select(AuditEvent).order_by(AuditEvent.id)).scalars().all()


def _edit(column_values):
    def tamper(db, events, position, actors):
        db.session.execute(update(AuditEvent).where(AuditEvent.id == events[position].id)
                           .values(**column_values(actors)))
        return events[position].id
    return tamper


def _delete(db, events, position, actors):
    db.session.execute(delete(AuditEvent).where(AuditEvent.id == events[position].id))
    return events[position + 1].id


def _insert_before(db, events, position, actors):
    # Spread the ids so that a forged row fits between two real ones (ids are not hashed, so
    # renumbering alone changes nothing the chain covers).
    for event in reversed(events):
        db.session.execute(update(AuditEvent).where(AuditEvent.id == event.id)
                           .values(id=event.id * 10))
    forged_id = events[position].id * 10 - 5
    before = events[position - 1].hash if position else "0" * 64
    db.session.execute(insert(AuditEvent).values(
        id=forged_id, created_at=events[position].created_at, actor_id=actors[0].id,
        action="application.approved", object_type="applications", object_id="1", details={},
        # prev_hash is unique, so a forger cannot reuse the real link; the hash is made up.
        prev_hash=before[:-4] + "beef", hash="f" * 64))
    return forged_id


TAMPERING = {
    "edit details": _edit(lambda actors: {"details": {"n": 99}}),
    "edit action": _edit(lambda actors: {"action": "application.approved"}),
    "edit actor": _edit(lambda actors: {"actor_id": actors[2].id}),
    "delete a row": _delete,
    "insert a forged row": _insert_before,
}


def test_every_edit_delete_or_insert_is_reported_at_the_first_row_whose_link_fails(db, verify):
    actors = [factories.make_user("admin") for _ in range(3)]
    cases, failures = 0, []
    for name, tamper in TAMPERING.items():
        # Deleting the newest row leaves nothing behind to notice it (see the anchor test).
        positions = range(CHAIN_LENGTH - 1) if tamper is _delete else range(CHAIN_LENGTH)
        for position in positions:
            events = _build_chain(db, actors)
            expected = tamper(db, events, position, actors)
            db.session.commit()
            for batch_size in ("1000", "2"):
                cases += 1
                result = verify("--batch-size", batch_size)
                reported = [int(line.split()[3].rstrip(":")) for line in result.output.splitlines()
                            if line.startswith("BROKEN at event")]
                if result.exit_code != 1 or not reported or reported[0] != expected:
                    failures.append((name, position, batch_size, expected, result.output))
    print(f"\naudit tampering: {cases} cases tried, {len(failures)} failures")
    assert cases == 2 * (4 * CHAIN_LENGTH + CHAIN_LENGTH - 1)
    assert failures == []


def test_an_intact_chain_passes_and_prints_its_newest_hash(db, verify):
    events = _build_chain(db, [factories.make_user("admin")] * 2)
    result = verify("--batch-size", "4")
    assert result.exit_code == 0, result.output
    assert f"Checked {CHAIN_LENGTH} audit events: the chain is intact." in result.output
    assert events[-1].hash in result.output


def test_an_empty_log_is_intact(db, verify):
    result = verify()
    assert result.exit_code == 0
    assert "Checked 0 audit events" in result.output


def test_deleting_the_newest_events_is_caught_by_an_anchor_kept_elsewhere(db, verify):
    events = _build_chain(db, [factories.make_user("admin")] * 2)
    anchor = events[-1].hash
    assert verify("--anchor", anchor).exit_code == 0
    db.session.execute(delete(AuditEvent).where(AuditEvent.id == events[-1].id))
    db.session.commit()
    assert verify().exit_code == 0  # without the anchor, the shortened chain is still a chain
    result = verify("--anchor", anchor)
    assert result.exit_code == 1
    assert f"the anchor {anchor} is no longer in the log" in result.output
