"""A process killed (SIGKILL) in the middle of an announcement — the one rendering inline, or the
RQ worker — leaves certificates pending; the sweep (``flask certificates sweep``, and the daily
``flask reminders send``) queues them again once they have waited long enough, and then every
certificate has its PDF, made exactly once, under the number it was issued with."""

import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from sqlalchemy import func, select

from certify import jobs
from certify.audit.keys import key_path
from certify.audit.models import AuditEvent
from certify.audit.services import verify_chain
from certify.auth.models import Role, User
from certify.certificates import services
from certify.certificates.models import Certificate, RenderState
from certify.config import PROJECT_ROOT, Settings
from certify.extensions import db as _db
from certify.publication.models import Batch
from certify.timeutil import local_today, utcnow
from certify.workflow import Status
from tests import factories
from tests.conftest import PG_SCHEMA, TEST_SECRET_KEY
from tests.servers import process_database_url, process_environment

ENTRIES = 13
REDIS_URL = "redis://127.0.0.1:6379/14"
FLASK = str(Path(sys.executable).parent / "flask")
WAIT = 90  # seconds: a limit for a machine under load, never reached otherwise
LATER = timedelta(minutes=Settings().certify_render_sweep_minutes + 1)


@pytest.fixture()
def batch_in_notice(app, db):
    """A batch of 13 applications whose notice has ended: ready to announce."""
    from certify.demo.scale import load_scale

    admin = factories.make_user(Role.ADMIN)
    factories.make_assessor()
    load_scale(ENTRIES, shares={Status.IN_NOTICE: 1.0}, echo=lambda *_: None)
    batch = db.session.execute(select(Batch)).scalar_one()
    batch.notice_starts_on = local_today() - timedelta(days=20)
    batch.notice_ends_on = local_today() - timedelta(days=6)
    db.session.commit()
    return admin.id, batch.id


def subprocess_environment(application) -> dict:
    """The settings of ``application`` for a ``flask`` process of its own (same database,
    storage, audit key and queue)."""
    environment = process_environment(
        FLASK_APP="certify", SECRET_KEY=TEST_SECRET_KEY,
        DATABASE_URL=process_database_url(application.config["SQLALCHEMY_DATABASE_URI"], PG_SCHEMA),
        CERTIFY_BASE_URL=application.config["CERTIFY_BASE_URL"],
        CERTIFY_STORAGE_DIR=application.config["CERTIFY_STORAGE_DIR"],
        CERTIFY_AUDIT_KEY_FILE=str(key_path(application)))
    if application.config.get("REDIS_URL"):
        environment |= {"REDIS_URL": application.config["REDIS_URL"],
                        "CERTIFY_QUEUE": application.config["CERTIFY_QUEUE"]}
    return environment


def counts() -> Counter:
    """Certificates by render state, read afresh (nothing held open for the other process)."""
    rows = _db.session.execute(select(Certificate.render_state, func.count())
                               .group_by(Certificate.render_state)).all()
    _db.session.rollback()
    return Counter({RenderState(state).value: count for state, count in rows})


def kill_when(process: subprocess.Popen, ready, *, group: bool = False) -> Counter:
    """SIGKILL ``process`` (its whole process group with ``group``) as soon as ``ready(counts)``
    holds; return the counts seen just after. ``ready`` is judged while the process is stopped
    (SIGSTOP), so what it saw is still the state when the kill lands."""
    def send(signal_number):
        if group:
            os.killpg(process.pid, signal_number)
        else:
            process.send_signal(signal_number)

    deadline = time.monotonic() + WAIT
    while True:
        assert process.poll() is None, f"the process ended first: {process.communicate()}"
        assert time.monotonic() < deadline, "the process never got that far"
        send(signal.SIGSTOP)
        if ready(counts()):
            break
        send(signal.SIGCONT)
        time.sleep(0.01)
    send(signal.SIGKILL)
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    return counts()


def issued_numbers() -> dict[int, str]:
    numbers = dict(_db.session.execute(select(Certificate.application_id, Certificate.number)).all())
    _db.session.rollback()
    return numbers


def assert_each_rendered_once(client, numbers: dict[int, str]) -> None:
    certificates = _db.session.execute(select(Certificate).order_by(Certificate.id)).scalars().all()
    rendered = Counter(_db.session.execute(
        select(AuditEvent.object_id).where(AuditEvent.action == "certificate.rendered")).scalars())
    assert len(certificates) == ENTRIES
    assert {c.application_id: c.number for c in certificates} == numbers  # numbers unchanged
    assert [c.render_state for c in certificates] == [RenderState.RENDERED] * ENTRIES
    assert {str(c.id): 1 for c in certificates} == dict(rendered)  # each made exactly once
    for certificate in certificates:
        response = client.get(f"/certificates/{certificate.number}.pdf")
        assert response.status_code == 200 and response.data.startswith(b"%PDF-")
    assert verify_chain()[1] == []


@pytest.mark.parametrize("rendered_before_kill", [0, 4])
def test_an_announcement_killed_while_rendering_inline_is_completed_by_the_sweep(
        app, db, client, batch_in_notice, rendered_before_kill):
    admin_id, batch_id = batch_in_notice
    announce = (
        "from certify.auth.models import User\n"
        "from certify.extensions import db\n"
        "from certify.publication import services\n"
        "from certify.publication.models import Batch\n"
        f"services.announce(db.session.get(User, {admin_id}), db.session.get(Batch, {batch_id})); "
        "db.session.commit()\n")
    # An operator's `flask shell`, rendering inline as every process without REDIS_URL does.
    process = subprocess.Popen([FLASK, "shell"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, cwd=PROJECT_ROOT,
                               env=subprocess_environment(app))
    process.stdin.write(announce.encode("utf-8"))
    process.stdin.close()
    at_kill = kill_when(process, lambda seen: sum(seen.values()) == ENTRIES
                        and seen["rendered"] >= rendered_before_kill)
    print(f"\nSIGKILL with {at_kill['rendered']} of {ENTRIES} rendered")
    assert at_kill["rendered"] < ENTRIES and at_kill["pending"] == ENTRIES - at_kill["rendered"]
    numbers = issued_numbers()
    waiting = next(c for c in db.session.execute(select(Certificate)).scalars()
                   if c.render_state == RenderState.PENDING)
    assert client.get(f"/certificates/{waiting.number}.pdf").status_code == 404
    assert "The PDF is being prepared." in client.get(
        f"/verify?number={waiting.number}", headers={"Accept-Language": "en"}).get_data(as_text=True)

    # At once, nothing is queued again: the PDFs may still be on their way elsewhere.
    runner = app.test_cli_runner()
    early = runner.invoke(args=["certificates", "sweep"])
    assert early.exit_code == 0 and "0 certificate PDF(s)" in early.output
    # Later, the sweep of the cron job queues every one of them again (rendered here, inline).
    swept = services.sweep_unrendered(now=utcnow() + LATER)
    db.session.commit()

    assert len(swept.requeued) == at_kill["pending"] and swept.given_up == []
    assert_each_rendered_once(client, numbers)
    requeued = db.session.execute(select(func.count()).where(
        AuditEvent.action == "certificate.render_requeued")).scalar_one()
    assert requeued == at_kill["pending"]


@pytest.fixture()
def rq_app(make_app, app):
    """The test application with a queue of its own on the real Redis; the queue is removed
    afterwards."""
    connection = redis.Redis.from_url(REDIS_URL)
    try:
        connection.ping()
    except redis.ConnectionError as error:
        pytest.fail(f"Redis is needed at {REDIS_URL} for this test: {error}")
    application = make_app(REDIS_URL=REDIS_URL, CERTIFY_QUEUE=f"certify-crash-{uuid.uuid4().hex[:12]}",
                           CERTIFY_STORAGE_DIR=app.config["CERTIFY_STORAGE_DIR"])
    yield application
    for key in connection.scan_iter(f"*{application.config['CERTIFY_QUEUE']}*"):
        connection.delete(key)


def test_an_rq_worker_killed_mid_batch_leaves_nothing_behind_after_the_sweep(
        app, db, client, batch_in_notice, rq_app):
    from rq import Queue
    from rq.job import Job

    admin_id, batch_id = batch_in_notice
    with rq_app.app_context():
        from certify.publication import services as publication

        publication.announce(_db.session.get(User, admin_id), _db.session.get(Batch, batch_id))
        _db.session.commit()
        numbers = issued_numbers()
        assert counts()["pending"] == ENTRIES
        worker = subprocess.Popen([FLASK, "worker"], stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL, cwd=PROJECT_ROOT,
                                  env=subprocess_environment(rq_app), start_new_session=True)
        queue = Queue(rq_app.config["CERTIFY_QUEUE"], connection=jobs.redis_connection())
        # A job records the PDFs it made together (RENDER_JOB_SIZE at a time): killed in the
        # middle of one, after the first has recorded its own.
        at_kill = kill_when(worker, lambda seen: seen["rendered"] >= 4 and queue.started_job_registry.count,
                            group=True)
        print(f"\nSIGKILL of the worker with {at_kill['rendered']} of {ENTRIES} rendered")
        assert at_kill["rendered"] < ENTRIES

        [abandoned] = queue.started_job_registry.get_job_ids()
        # RQ itself runs it again once it notices the worker died (its retries are untouched).
        assert Job.fetch(abandoned.split(":")[0], connection=queue.connection).retries_left == 3
        swept = services.sweep_unrendered(now=utcnow() + LATER)
        _db.session.commit()
        assert len(swept.requeued) == ENTRIES - at_kill["rendered"]
        jobs.start_worker(rq_app, burst=True)  # a worker started again
    db.session.expire_all()
    assert_each_rendered_once(client, numbers)


def backdate(certificate, by: timedelta) -> None:
    """As if ``certificate`` had been issued ``by`` ago (its row and its audit events)."""
    certificate.issued_at -= by
    for event in _db.session.execute(select(AuditEvent).where(
            AuditEvent.object_type == "certificates",
            AuditEvent.object_id == str(certificate.id))).scalars():
        event.created_at -= by
    _db.session.commit()


def test_the_daily_reminders_run_sweeps_too(app, db, monkeypatch):
    monkeypatch.setattr(jobs, "run_job", lambda func, *args: None)  # the rendering never came
    certificate = factories.issued_certificate(admin=factories.make_user(Role.ADMIN))
    db.session.commit()
    monkeypatch.undo()
    backdate(certificate, LATER)

    result = app.test_cli_runner().invoke(args=["reminders", "send"])

    assert result.exit_code == 0, result.output
    db.session.refresh(certificate)
    assert certificate.render_state == RenderState.RENDERED


def test_a_certificate_whose_rendering_is_lost_every_time_is_given_up_after_three_sweeps(
        app, db, monkeypatch):
    monkeypatch.setattr(jobs, "run_job", lambda func, *args: None)  # every rendering lost
    certificate = factories.issued_certificate(admin=factories.make_user(Role.ADMIN))
    db.session.commit()
    now, swept = utcnow(), []
    for _ in range(services.MAX_SWEEPS + 1):
        now += LATER
        result = services.sweep_unrendered(now=now)
        db.session.commit()
        swept.append((len(result.requeued), len(result.given_up)))

    assert swept == [(1, 0), (1, 0), (1, 0), (0, 1)]
    db.session.refresh(certificate)
    assert certificate.render_state == RenderState.FAILED
    assert "render it again" in certificate.render_error
    # The department renders it again: it counts from there.
    assert services.sweep_unrendered(now=now + LATER).requeued == []
