"""Certificates issued at the same time by several announcements never share a number and
leave no gap."""

import threading

import pytest
from sqlalchemy import select, update

from certify import jobs
from certify.applications.models import Application
from certify.auth.models import Role, User
from certify.certificates.models import Certificate
from certify.certificates.services import issue_certificate
from certify.extensions import db as _db
from certify.workflow import Status
from tests import factories


def listed_applications(count: int) -> list[int]:
    """``count`` listed factory applications of one organisation. Taking each through the
    whole workflow would dominate the test; the status is set in one statement instead."""
    applicant = factories.make_user(Role.APPLICANT)
    ids = [factories.make_application(applicant, kind="factory").id for _ in range(count)]
    _db.session.execute(update(Application).where(Application.id.in_(ids)).values(status=Status.LISTED))
    _db.session.commit()
    return ids


def issue_concurrently(app, admin_id: int, application_ids: list[int], threads: int) -> list[BaseException]:
    """Issue the certificates from ``threads`` threads, each with its own application context
    and session, one transaction per certificate; return the errors raised. A thread still
    running after two minutes fails the test (its certificates would be missing from the count
    for a reason the count cannot tell)."""
    errors: list[BaseException] = []
    start = threading.Barrier(threads)

    def work(ids):
        try:
            with app.app_context():
                admin = _db.session.get(User, admin_id)
                start.wait()
                for application_id in ids:
                    issue_certificate(_db.session.get(Application, application_id), admin)
                    _db.session.commit()
        except BaseException as error:  # noqa: BLE001 - reported by the test
            errors.append(error)

    workers = [threading.Thread(target=work, args=(application_ids[n::threads],)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    still_running = sum(worker.is_alive() for worker in workers)
    assert still_running == 0, f"{still_running} of {threads} threads still issuing after two minutes"
    return errors


@pytest.fixture()
def no_rendering(monkeypatch):
    """Renders are queued but not run: this test is about numbers."""
    monkeypatch.setattr(jobs, "run_job", lambda func, *args: None)


def assert_numbered_without_gaps(count: int) -> None:
    certificates = _db.session.execute(select(Certificate)).scalars().all()
    assert len(certificates) == count
    assert len({c.number for c in certificates}) == count
    assert sorted(c.sequence for c in certificates) == list(range(1, count + 1))


def test_concurrent_issuing_gives_distinct_numbers_without_gaps(app, db, no_rendering):
    admin = factories.make_user(Role.ADMIN)
    ids = listed_applications(12)

    errors = issue_concurrently(app, admin.id, ids, threads=4)

    assert errors == []
    assert_numbered_without_gaps(12)


@pytest.mark.postgresql_only
def test_eight_announcements_at_once_on_postgresql_issue_200_distinct_numbers(app, db, no_rendering):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("needs PostgreSQL (TEST_DATABASE_URL): SQLite serialises writers by itself")
    admin = factories.make_user(Role.ADMIN)
    ids = listed_applications(200)

    errors = issue_concurrently(app, admin.id, ids, threads=8)

    assert errors == []
    assert_numbered_without_gaps(200)
