"""The audit chain is kept with a key outside the database: rows rewritten and re-hashed by
someone who can write to the database are caught, so is deleting the newest rows (by the anchor
file, without giving an anchor by hand), and a certificate whose PDF was swapped with another's is
reported by `flask audit verify` and `flask doctor`, and its download refused. Rows written before
the key existed stay verifiable. No backup holds the key."""

import io
import json
import os
import stat
import tarfile
from datetime import timedelta

import pytest
from sqlalchemy import delete, insert, select, update

from certify import ops, storage
from certify.audit.keys import AuditKey, AuditKeyError, load_key
from certify.audit.models import AuditEvent
from certify.audit.services import GENESIS_HASH, event_hash, record_event, verify_chain
from certify.auth.models import Role
from certify.certificates.models import Certificate
from certify.extensions import db as _db
from certify.timeutil import utcnow
from tests import factories


@pytest.fixture()
def keyed(make_app, db, tmp_path):
    """An application with an audit key file and an anchor file of its own (neither exists
    yet), sharing the test database; the test runs in its context."""
    application = make_app(CERTIFY_AUDIT_KEY_FILE=str(tmp_path / "keys" / "audit_key"),
                           CERTIFY_AUDIT_ANCHOR_FILE=str(tmp_path / "audit-anchors.log"))
    ops.init_app(application)
    with application.app_context():
        yield application
        _db.session.rollback()


def run(application, *arguments):
    result = application.test_cli_runner().invoke(args=list(arguments))
    _db.session.rollback()  # see what the command committed
    return result


def chain(count: int, start: int = 0) -> list[AuditEvent]:
    for number in range(start, start + count):
        record_event("thing.done", object_type="thing", object_id=number, details={"n": number})
    _db.session.commit()
    return _db.session.execute(select(AuditEvent).order_by(AuditEvent.id)).scalars().all()


def rewrite_without_key(events, details=None) -> None:
    """What someone with the database but not the key can do: change rows and give each the
    hash it would have without a key, relinking every later row."""
    prev = events[0].prev_hash
    for event in events:
        if details is not None:
            event.details = details
        event.prev_hash = prev
        event.key_id = None
        event.hash = event_hash(event, prev)
        prev = event.hash
    _db.session.flush()
    _db.session.commit()


def test_the_first_event_makes_the_key_file_readable_by_its_owner_only(keyed, tmp_path):
    path = tmp_path / "keys" / "audit_key"
    assert not path.exists()
    [event] = chain(1)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(path.read_text().strip()) == 64
    assert event.key_id == load_key().id
    assert event.hash != event_hash(event, GENESIS_HASH)  # not the plain SHA-256
    assert verify_chain() == (1, [])


def test_rewriting_the_newest_rows_and_rehashing_them_without_the_key_is_caught(keyed):
    events = chain(6)
    rewrite_without_key(events[-2:], details={"n": 99})

    result = run(keyed, "audit", "verify")

    assert result.exit_code == 1
    assert (f"BROKEN at event {events[-2].id}: written without the audit key after the keyed "
            "log began") in result.output


def test_rehashing_with_another_key_under_the_key_id_is_caught(keyed, tmp_path):
    events = chain(4)
    guessed = AuditKey(secret=b"not the key" * 6, id=events[-1].key_id, path=tmp_path / "guess")
    newest = events[-1]
    newest.details = {"n": 99}
    newest.hash = event_hash(newest, newest.prev_hash, guessed)
    _db.session.commit()
    result = run(keyed, "audit", "verify")
    assert result.exit_code == 1
    assert f"BROKEN at event {newest.id}: contents do not match the row's hash" in result.output


def test_rewriting_the_whole_log_without_the_key_is_caught(keyed):
    events = chain(5)
    rewrite_without_key(events)
    result = run(keyed, "audit", "verify")
    assert result.exit_code == 1
    assert "no event of the log is keyed, although the audit key exists" in result.output


def test_deleting_the_newest_rows_is_caught_by_the_daily_anchor(keyed, tmp_path):
    chain(5)
    anchored = run(keyed, "audit", "anchor")
    assert anchored.exit_code == 0, anchored.output
    [line] = (tmp_path / "audit-anchors.log").read_text().splitlines()
    anchor = json.loads(line)
    assert stat.S_IMODE((tmp_path / "audit-anchors.log").stat().st_mode) == 0o600
    newest = _db.session.execute(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1)).scalar_one()
    assert (anchor["event"], anchor["hash"], newest.action) == (newest.id, newest.hash, "audit.anchored")
    assert run(keyed, "audit", "verify").exit_code == 0

    chain(2, start=5)  # written after the anchor
    _db.session.execute(delete(AuditEvent).where(AuditEvent.id >= anchor["event"] - 1))
    _db.session.commit()
    result = run(keyed, "audit", "verify")

    assert result.exit_code == 1
    assert (f"BROKEN: event {anchor['event']}, anchored at {anchor['at']}, is no longer in the log"
            in result.output)


def test_the_daily_reminders_run_writes_the_anchor(keyed, tmp_path):
    chain(3)
    result = run(keyed, "reminders", "send")
    assert result.exit_code == 0, result.output
    [line] = (tmp_path / "audit-anchors.log").read_text().splitlines()
    newest = _db.session.execute(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1)).scalar_one()
    assert json.loads(line)["hash"] == newest.hash
    rewrite_without_key([newest], details={"file": "elsewhere"})
    assert f"event {newest.id} was rewritten after it was anchored" in run(keyed, "audit", "verify").output


def test_anchors_of_another_database_are_left_aside(keyed, tmp_path):
    (tmp_path / "audit-anchors.log").write_text(json.dumps(
        {"at": "2026-01-01T00:00:00Z", "log": "c" * 64, "event": 1, "hash": "d" * 64}) + "\n")
    chain(2)
    result = run(keyed, "audit", "verify")
    assert result.exit_code == 0, result.output
    assert "1 taken from another database's log, not checked" in result.output


def test_events_written_before_the_key_stay_verifiable_and_only_come_first(keyed):
    # Rows as the code before the key wrote them: plain SHA-256, no key id.
    prev = GENESIS_HASH
    for number in range(3):
        row = AuditEvent(created_at=utcnow(), actor_id=None, action="thing.done",
                         object_type="thing", object_id=str(number), details={"n": number},
                         prev_hash=prev)
        row.hash = prev = event_hash(row, prev)
        _db.session.add(row)
    _db.session.commit()
    events = chain(2, start=3)
    assert [event.key_id is not None for event in events] == [False, False, False, True, True]

    result = run(keyed, "audit", "verify")
    assert result.exit_code == 0, result.output
    assert "2 of 5 events checked with audit key" in result.output
    assert "(3 written before the key, plain SHA-256)" in result.output

    _db.session.execute(update(AuditEvent).where(AuditEvent.id == events[1].id).values(details={"n": 9}))
    _db.session.commit()
    assert verify_chain()[1][0].event_id == events[1].id


def test_a_forged_row_appended_without_the_key_is_caught(keyed):
    events = chain(3)
    forged = AuditEvent(created_at=utcnow(), actor_id=None, action="application.approve",
                        object_type="applications", object_id="1", details={},
                        prev_hash=events[-1].hash)
    forged_hash = event_hash(forged, events[-1].hash)
    _db.session.execute(insert(AuditEvent).values(
        created_at=forged.created_at, action=forged.action, object_type=forged.object_type,
        object_id="1", details={}, prev_hash=events[-1].hash, hash=forged_hash))
    _db.session.commit()
    [chain_break] = verify_chain()[1]
    assert "written without the audit key" in chain_break.reason


def test_a_lost_key_stops_every_change_and_names_the_file(keyed, make_app, tmp_path):
    chain(2)
    path = tmp_path / "keys" / "audit_key"
    path.rename(tmp_path / "elsewhere")
    restarted = make_app(CERTIFY_AUDIT_KEY_FILE=str(path),
                         CERTIFY_AUDIT_ANCHOR_FILE=str(tmp_path / "audit-anchors.log"))
    ops.init_app(restarted)
    with restarted.app_context():
        with pytest.raises(AuditKeyError, match=f"{path} does not exist: restore that file"):
            record_event("thing.done", object_type="thing", object_id=9)
        _db.session.rollback()
        result = run(restarted, "audit", "verify")
    assert result.exit_code == 1 and f"{path} does not exist" in result.output
    assert not path.exists(), "a lost key is never replaced by a new one"


def test_no_backup_holds_the_audit_key_or_the_anchors(keyed, tmp_path):
    chain(3)
    run(keyed, "audit", "anchor")
    secret = (tmp_path / "keys" / "audit_key").read_bytes().strip()
    anchors = (tmp_path / "audit-anchors.log").read_bytes().strip()

    result = run(keyed, "backup", "create", "--output", str(tmp_path / "backups"))

    assert result.exit_code == 0, result.output
    [archive] = (tmp_path / "backups").iterdir()
    with tarfile.open(archive) as tar:
        names = tar.getnames()
        contents = b"".join(tar.extractfile(member).read() for member in tar if member.isfile())
    assert not any("audit_key" in name or "anchor" in name for name in names)
    assert secret not in contents and anchors not in contents


# ---- certificates: the PDF named, the PDF recorded, the PDF stored ---------------------------


@pytest.fixture()
def two_certificates(app, db, monkeypatch):
    monkeypatch.setitem(app.config, "CERTIFY_BASE_URL", "https://lvse.example.gov.cn")
    admin = factories.make_user(Role.ADMIN)
    first = factories.issued_certificate(admin=admin, kind="factory", subject="一号基地")
    second = factories.issued_certificate(admin=admin, kind="factory", subject="二号基地")
    db.session.commit()
    assert first.pdf_sha256 and second.pdf_sha256
    return first, second


def same_storage_app(make_app, app, tmp_path):
    """`flask audit verify` and `flask doctor` on the test database and its stored files."""
    application = make_app(CERTIFY_STORAGE_DIR=app.config["CERTIFY_STORAGE_DIR"],
                           CERTIFY_AUDIT_ANCHOR_FILE=str(tmp_path / "audit-anchors.log"))
    ops.init_app(application)
    return application


def cli(application, *arguments):
    with application.app_context():
        result = application.test_cli_runner().invoke(args=list(arguments))
        _db.session.remove()
    return result


def swap(db, first, second):
    a, b = first.pdf_sha256, second.pdf_sha256
    db.session.execute(update(Certificate).where(Certificate.id == first.id).values(pdf_sha256=b))
    db.session.execute(update(Certificate).where(Certificate.id == second.id).values(pdf_sha256=a))
    db.session.commit()
    return a, b


def test_swapping_two_certificates_pdfs_is_reported_and_neither_is_served(
        app, db, client, make_app, tmp_path, two_certificates):
    first, second = two_certificates
    checker = same_storage_app(make_app, app, tmp_path)
    assert client.get(f"/certificates/{first.number}.pdf").status_code == 200
    assert cli(checker, "audit", "verify").exit_code == 0

    first_pdf, second_pdf = swap(db, first, second)
    verify = cli(checker, "audit", "verify")
    doctor = cli(checker, "doctor")
    downloads = [client.get(f"/certificates/{c.number}.pdf", headers={"Accept-Language": "en"})
                 for c in (first, second)]

    assert verify.exit_code == 1
    assert (f"BROKEN: certificate {first.number}: it names the PDF {second_pdf[:12]}…, but its "
            "certificate.rendered event") in verify.output
    assert f"the PDF it names is that of {second.number}" in verify.output
    assert f"BROKEN: certificate {second.number}" in verify.output
    assert "2 certificate(s) checked against their recorded PDF and the stored bytes: 2 disagree" in verify.output
    [line] = [line for line in doctor.output.splitlines() if " certificate files " in line]
    assert line.startswith("PROBLEM") and "2 of 2 certificate(s) disagree" in line
    assert [response.status_code for response in downloads] == [409, 409]
    assert all(response.data[:5] != b"%PDF-" for response in downloads)
    assert "does not match the department" in downloads[0].get_data(as_text=True)
    page = client.get(f"/verify?number={first.number}", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    # The record stands; the file is neither linked nor named by its swapped hash.
    assert "so it is not given out" in text and second_pdf not in text
    assert f"/certificates/{first.number}.pdf" not in text


def test_uploading_another_certificates_pdf_under_a_swapped_number_is_not_called_identical(
        app, db, client, two_certificates):
    first, second = two_certificates
    with storage.open_file(second.pdf_sha256) as handle:
        second_bytes = handle.read()
    swap(db, first, second)
    page = client.post("/verify", data={"number": first.number,
                                         "pdf": (io.BytesIO(second_bytes), "cert.pdf")},
                       content_type="multipart/form-data", headers={"Accept-Language": "en"})
    assert "byte for byte the one issued" not in page.get_data(as_text=True)


def test_stored_bytes_replaced_on_disk_are_reported_and_not_served(
        app, db, client, make_app, tmp_path, two_certificates):
    first, _ = two_certificates
    path = storage.path_of(first.pdf_sha256)
    os.chmod(path, 0o600)
    path.write_bytes(factories.PDF_BYTES)
    checker = same_storage_app(make_app, app, tmp_path)

    verify = cli(checker, "audit", "verify")

    assert client.get(f"/certificates/{first.number}.pdf").status_code == 409
    assert verify.exit_code == 1
    assert f"BROKEN: certificate {first.number}: the stored bytes of {first.pdf_sha256[:12]}…" in verify.output


def test_the_doctor_reports_certificates_left_pending(app, db, make_app, tmp_path, monkeypatch):
    from certify import jobs

    monkeypatch.setitem(app.config, "CERTIFY_BASE_URL", "https://lvse.example.gov.cn")
    monkeypatch.setattr(jobs, "run_job", lambda func, *args: None)  # a rendering that never came
    admin = factories.make_user(Role.ADMIN)
    certificate = factories.issued_certificate(admin=admin)
    db.session.commit()
    checker = same_storage_app(make_app, app, tmp_path)
    fresh = [line for line in cli(checker, "doctor").output.splitlines() if " certificate PDFs " in line]
    db.session.execute(update(Certificate).where(Certificate.id == certificate.id)
                       .values(issued_at=utcnow() - timedelta(minutes=16)))
    db.session.execute(update(AuditEvent).where(AuditEvent.action == "certificate.issued")
                       .values(created_at=utcnow() - timedelta(minutes=16)))
    db.session.commit()
    stale = [line for line in cli(checker, "doctor").output.splitlines() if " certificate PDFs " in line]

    assert fresh[0].startswith("ok") and "none waiting longer than 15 minutes" in fresh[0]
    assert stale[0].startswith("PROBLEM")
    assert f"1 certificate(s) pending for more than 15 minutes: {certificate.number}" in stale[0]
