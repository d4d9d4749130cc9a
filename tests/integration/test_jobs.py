"""Background jobs: inline by default, on a real RQ worker with Redis when REDIS_URL is set."""

import os
import time
import uuid
from datetime import datetime, timezone

import pytest
import redis
from sqlalchemy import func, select

from certify import jobs
from certify.audit.models import AuditEvent
from certify.audit.services import record_event
from certify.extensions import db as _db

REDIS_URL = "redis://127.0.0.1:6379/14"


def write_marker(text: str) -> None:
    """A job: leaves an audit event, in a session of its own."""
    record_event("test.job_ran", details={"text": text})
    _db.session.commit()


def test_without_redis_a_job_runs_inline_after_commit_and_never_after_a_rollback(db):
    jobs.call_after_commit(write_marker, "rolled back")
    db.session.rollback()
    jobs.call_after_commit(write_marker, "committed")
    db.session.commit()
    texts = db.session.execute(select(AuditEvent.details)).scalars().all()
    assert texts == [{"text": "committed"}]


@pytest.fixture()
def redis_queue():
    connection = redis.Redis.from_url(REDIS_URL)
    try:
        connection.ping()
    except redis.ConnectionError as error:
        pytest.fail(f"Redis is needed at {REDIS_URL} for this test: {error}")
    yield connection


def test_with_redis_a_real_worker_runs_the_queued_job(make_app, db, redis_queue):
    # A queue of this run's own, so that other runs sharing the Redis never take its jobs.
    app = make_app(REDIS_URL=REDIS_URL, CERTIFY_QUEUE=f"certify-test-{os.getpid()}")
    with app.app_context():
        job = jobs.run_job(write_marker, "from the worker")
        assert job is not None and job.get_status() == "queued"
        assert _db.session.execute(select(AuditEvent)).first() is None
        started = time.monotonic()
        jobs.start_worker(app, burst=True)
        stopped_after = time.monotonic() - started
        assert job.get_status(refresh=True) == "finished"
        texts = _db.session.execute(select(AuditEvent.details)).scalars().all()
    assert texts == [{"text": "from the worker"}]
    # A worker that has nothing left stops at once (it waited a minute for its listener).
    assert stopped_after < 15, stopped_after


def test_with_redis_an_announced_batch_is_rendered_and_its_lists_stored_by_a_burst_worker(make_app, db, redis_queue):
    from datetime import timedelta

    from certify.auth.models import Role
    from certify.certificates.services import batch_progress
    from certify.demo.scale import load_scale
    from certify.publication import services
    from certify.publication.models import Batch
    from certify.timeutil import local_today
    from certify.workflow import Status
    from tests import factories

    # A queue of this run's own: test runs side by side share the Redis database.
    app = make_app(REDIS_URL=REDIS_URL, CERTIFY_QUEUE=f"certify-test-{os.getpid()}")
    with app.app_context():
        admin = factories.make_user(Role.ADMIN)
        factories.make_assessor()
        load_scale(3, shares={Status.IN_NOTICE: 1.0}, echo=lambda *_: None)
        batch = _db.session.execute(select(Batch)).scalar_one()
        batch.notice_starts_on = local_today() - timedelta(days=20)
        batch.notice_ends_on = local_today() - timedelta(days=6)
        certificates = services.announce(admin, batch)
        _db.session.commit()
        application_ids = [certificate.application_id for certificate in certificates]
        assert batch_progress(application_ids)["pending"] == 3  # queued, not rendered inline
        assert batch.exports is None

        jobs.start_worker(app, burst=True)
        _db.session.expire_all()
        assert batch_progress(application_ids) == {"pending": 0, "rendered": 3, "failed": 0,
                                                    "not_issued": 0}
        assert set(_db.session.get(Batch, batch.id).exports) == {"csv", "xlsx", "json"}


def test_with_redis_a_failed_rendering_is_tried_again_after_30_seconds_then_2_and_10_minutes(
        make_app, db, redis_queue):
    from rq.job import Job

    from certify.auth.models import Role
    from certify.certificates.models import RenderState
    from tests import factories

    app = make_app(REDIS_URL=REDIS_URL, CERTIFY_QUEUE=f"certify-test-{uuid.uuid4().hex[:12]}")
    try:
        with app.app_context():
            certificate = factories.issued_certificate(admin=factories.make_user(Role.ADMIN))
            _db.session.commit()
            queue = jobs.job_queue()
            # Without the public address a certificate cannot be rendered (its QR code would
            # lead nowhere).
            app.config["CERTIFY_BASE_URL"] = None
            jobs.start_worker(app, burst=True)
            [job_id] = queue.scheduled_job_registry.get_job_ids()
            job = Job.fetch(job_id, connection=queue.connection)
            due_in = (queue.scheduled_job_registry.get_scheduled_time(job)
                      - datetime.now(timezone.utc)).total_seconds()
            _db.session.refresh(certificate)
            failures = _db.session.execute(select(func.count()).where(
                AuditEvent.action == "certificate.render_failed")).scalar_one()

            assert certificate.render_state == RenderState.FAILED
            assert "CERTIFY_BASE_URL" in certificate.render_error and failures == 1
            assert job.get_status() == "scheduled" and job.retries_left == 2
            assert job.retry_intervals == [30, 120, 600] and 20 < due_in <= 30

            # The address is set, and 30 seconds later the scheduler puts the job back.
            app.config["CERTIFY_BASE_URL"] = "https://lvse.example.gov.cn"
            queue.connection.zadd(queue.scheduled_job_registry.key, {job.id: int(time.time()) - 1})
            jobs.start_worker(app, burst=True)
            _db.session.refresh(certificate)
            assert job.get_status(refresh=True) == "finished"
            assert certificate.render_state == RenderState.RENDERED
    finally:
        for key in redis_queue.scan_iter(f"*{app.config['CERTIFY_QUEUE']}*"):
            redis_queue.delete(key)


def fail_on(text: str) -> None:
    """A job that fails for the text ``boom`` and leaves a marker for the others."""
    if text == "boom":
        raise RuntimeError("boom")
    write_marker(text)


def test_with_redis_consecutive_calls_of_one_function_go_as_one_job_and_a_failure_stays_its_own(
        make_app, db, redis_queue, monkeypatch):
    from certify.certificates.services import render_certificates

    monkeypatch.setattr(jobs, "CALLS_PER_JOB", 3)
    app = make_app(REDIS_URL=REDIS_URL, CERTIFY_QUEUE=f"certify-test-{uuid.uuid4().hex[:12]}")
    try:
        with app.app_context():
            queue = jobs.job_queue()
            calls = [(fail_on, ("one",)), (fail_on, ("boom",)), (fail_on, ("two",)), (fail_on, ("three",)),
                     (write_marker, ("four",)), (render_certificates, ([1],)), (render_certificates, ([2],))]
            jobs.run_jobs(calls)
            queued = [(job.func_name, job.args) for job in queue.get_jobs()]
            assert queued == [
                ("certify.jobs.execute_each", (jobs.job_path(fail_on), [["one"], ["boom"], ["two"]])),
                ("certify.jobs.execute", (jobs.job_path(fail_on), "three")),
                ("certify.jobs.execute", (jobs.job_path(write_marker), "four")),
                # Retried: one job each, so that RQ runs exactly it again.
                ("certify.jobs.execute", (jobs.job_path(render_certificates), [1])),
                ("certify.jobs.execute", (jobs.job_path(render_certificates), [2]))]
            for job in queue.get_jobs()[3:]:  # no certificates here
                job.cancel()
            jobs.start_worker(app, burst=True)
            texts = [d["text"] for d in _db.session.execute(
                select(AuditEvent.details).order_by(AuditEvent.id)).scalars()]
            [failed] = queue.failed_job_registry.get_job_ids()
            assert "1 of 3 calls" in queue.fetch_job(failed).latest_result().exc_string
        assert texts == ["one", "two", "three", "four"]
    finally:
        for key in redis_queue.scan_iter(f"*{app.config['CERTIFY_QUEUE']}*"):
            redis_queue.delete(key)
