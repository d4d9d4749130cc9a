"""The same transition attempted by many people at once: exactly one succeeds, the others get
a clear refusal, and nothing is issued, rendered or mailed twice. Run on PostgreSQL, where
transactions really overlap (SQLite serialises writers by itself)."""

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm.exc import StaleDataError

from certify.applications import services as applications
from certify.applications.models import Application
from certify.assessment.assignment import assign_assessors
from certify.auth.models import User
from certify.certificates import rendering
from certify.certificates.models import Certificate
from certify.exceptions import PermissionDenied, ServiceError
from certify.extensions import db as _db
from certify.publication import services as publication
from certify.publication.models import Batch
from certify.timeutil import local_today
from certify.workflow import Status
from tests import factories

THREADS = 8
# What a loser of a race is told: the service's refusal, or the optimistic lock's.
REFUSALS = (ServiceError, PermissionDenied, StaleDataError)


def postgresql_only(db):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("needs PostgreSQL (TEST_DATABASE_URL): SQLite serialises writers by itself")


def race(app, attempt, threads: int = THREADS) -> tuple[int, list[str]]:
    """Run ``attempt()`` in ``threads`` threads at once, each in its own application context and
    transaction; return the number that committed and the refusals (``REFUSALS``: what a user who
    lost the race is told). Any other error, or a thread still running after a minute, fails the
    test: a race must end in a clear answer for everyone."""
    successes, refusals, errors = [], [], []
    start = threading.Barrier(threads)

    def work():
        with app.app_context():
            try:
                start.wait()
                attempt()
                _db.session.commit()
                successes.append(1)
            except REFUSALS as refusal:
                _db.session.rollback()
                refusals.append(str(getattr(refusal, "message", refusal)))
            except Exception as error:  # noqa: BLE001 - reported below, and fails the test
                _db.session.rollback()
                errors.append(f"{type(error).__name__}: {error}")
            finally:
                _db.session.remove()

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    still_running = sum(worker.is_alive() for worker in workers)
    assert still_running == 0, f"{still_running} of {threads} attempts still running after a minute"
    assert errors == [], "attempts failed instead of being refused:\n" + "\n".join(errors)
    return len(successes), refusals


def report(capsys, name: str, successes: int, refusals: list[str]) -> None:
    with capsys.disabled():
        print(f"\nconcurrency: {name}: {successes} succeeded, {len(refusals)} refused")


@pytest.mark.postgresql_only
def test_a_double_submit_submits_once(app, db, capsys):
    postgresql_only(db)
    application = factories.complete_application()
    db.session.commit()
    ids = (application.id, application.created_by_id)

    def submit():
        user = _db.session.get(User, ids[1])
        applications.submit_application(user, _db.session.get(Application, ids[0]),
                                        pledge_name="周丽", pledge_accepted=True)

    successes, refusals = race(app, submit)
    report(capsys, "double submit", successes, refusals)
    assert (successes, len(refusals)) == (1, THREADS - 1)
    db.session.expire_all()
    assert len(db.session.get(Application, ids[0]).submissions) == 1


@pytest.mark.postgresql_only
def test_a_double_approval_decides_once(app, db, capsys):
    postgresql_only(db)
    application = factories.assessed_application()
    admin = factories.make_user("admin")
    db.session.commit()
    ids = (application.id, admin.id)

    def approve():
        publication.decide(_db.session.get(User, ids[1]), _db.session.get(Application, ids[0]),
                           "approved", "同意")

    successes, refusals = race(app, approve)
    report(capsys, "double approval", successes, refusals)
    assert (successes, len(refusals)) == (1, THREADS - 1)
    from certify.publication.models import Decision

    assert db.session.execute(select(func.count()).select_from(Decision)).scalar() == 1


@pytest.mark.postgresql_only
def test_simultaneous_assignments_assign_once(app, db, capsys):
    postgresql_only(db)
    application = factories.make_submitted_application()
    admin = factories.make_user("admin")
    assessors = [factories.make_assessor() for _ in range(THREADS)]
    db.session.commit()
    ids = iter([a.id for a in assessors])
    lock = threading.Lock()

    def assign():
        with lock:
            assessor_id = next(ids)
        from flask import current_app

        with current_app.test_request_context():
            assign_assessors(_db.session.get(User, admin.id),
                             _db.session.get(Application, application.id),
                             lead=_db.session.get(User, assessor_id))

    successes, refusals = race(app, assign)
    report(capsys, "simultaneous assignment", successes, refusals)
    assert (successes, len(refusals)) == (1, THREADS - 1)
    from certify.assessment.models import Assignment

    assert db.session.execute(select(func.count()).select_from(Assignment)).scalar() == 1


@pytest.mark.postgresql_only
def test_simultaneous_announcements_issue_each_certificate_once(app, db, capsys, monkeypatch):
    postgresql_only(db)
    admin = factories.make_user("admin")
    applications_ = [factories.approved_application(admin=admin) for _ in range(3)]
    batch = publication.create_batch(admin, title="并发公告", kinds=["supply_chain"])
    publication.add_to_batch(admin, batch, applications_)
    publication.open_notice(admin, batch)
    batch.notice_starts_on -= timedelta(days=30)
    batch.notice_ends_on = local_today() - timedelta(days=1)
    db.session.commit()
    from certify.mail.models import MailMessage

    mails_before = db.session.execute(select(func.count()).select_from(MailMessage)).scalar()
    renders = []
    real_pdf = rendering.certificate_pdf
    monkeypatch.setattr(rendering, "certificate_pdf", lambda certificate: renders.append(certificate.id) or real_pdf(certificate))

    def announce():
        publication.announce(_db.session.get(User, admin.id), _db.session.get(Batch, batch.id))

    successes, refusals = race(app, announce)
    report(capsys, "simultaneous announcement", successes, refusals)
    assert (successes, len(refusals)) == (1, THREADS - 1)
    certificates = db.session.execute(select(Certificate)).scalars().all()
    assert len(certificates) == 3 and len({c.number for c in certificates}) == 3
    assert sorted(renders) == sorted(c.id for c in certificates)  # each PDF made once
    # One e-mail per listed application's applicant user, sent once.
    mails_after = db.session.execute(select(func.count()).select_from(MailMessage)).scalar()
    assert mails_after - mails_before == 3
    assert all(application.status == Status.LISTED for application in
               db.session.execute(select(Application)).scalars())

