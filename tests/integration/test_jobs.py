"""Background jobs: inline by default, on a real RQ worker with Redis when REDIS_URL is set."""

import os

import pytest
import redis
from sqlalchemy import select

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
        jobs.start_worker(app, burst=True)
        assert job.get_status(refresh=True) == "finished"
        texts = _db.session.execute(select(AuditEvent.details)).scalars().all()
    assert texts == [{"text": "from the worker"}]


def test_with_redis_an_announced_batch_is_rendered_and_its_lists_stored_by_a_burst_worker(make_app, db, redis_queue):
    from datetime import timedelta

    from certify.auth.models import Role
    from certify.certificates.services import batch_progress
    from certify.demo_scale import load_scale
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
