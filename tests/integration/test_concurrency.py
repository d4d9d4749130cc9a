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
from certify.assessment import services as assessment
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
FIGURES = []


def postgresql_only(db):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("needs PostgreSQL (TEST_DATABASE_URL): SQLite serialises writers by itself")


def race(app, attempt, threads: int = THREADS) -> tuple[int, list[str]]:
    """Run ``attempt(session_objects)`` in ``threads`` threads at once, each in its own
    application context and transaction; return the number that committed and the refusals."""
    successes, refusals = [], []
    start = threading.Barrier(threads)

    def work():
        with app.app_context():
            try:
                start.wait()
                attempt()
                _db.session.commit()
                successes.append(1)
            except (ServiceError, PermissionDenied, StaleDataError) as refusal:
                _db.session.rollback()
                refusals.append(str(getattr(refusal, "message", refusal)))
            except Exception as error:  # noqa: BLE001 - e.g. a unique-constraint refusal
                _db.session.rollback()
                refusals.append(type(error).__name__)
            finally:
                _db.session.remove()

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    return len(successes), refusals


def _record(name, successes, refusals):
    FIGURES.append(f"{name}: {successes} succeeded, {len(refusals)} refused")


@pytest.mark.postgresql_only
def test_a_double_submit_submits_once(app, db):
    postgresql_only(db)
    application = factories.complete_application()
    db.session.commit()
    ids = (application.id, application.created_by_id)

    def submit():
        user = _db.session.get(User, ids[1])
        applications.submit_application(user, _db.session.get(Application, ids[0]),
                                        pledge_name="周丽", pledge_accepted=True)

    successes, refusals = race(app, submit)
    _record("double submit", successes, refusals)
    assert successes == 1 and len(refusals) == THREADS - 1
    db.session.expire_all()
    assert len(db.session.get(Application, ids[0]).submissions) == 1


@pytest.mark.postgresql_only
def test_a_double_approval_decides_once(app, db):
    postgresql_only(db)
    application = factories.assessed_application()
    admin = factories.make_user("admin")
    db.session.commit()
    ids = (application.id, admin.id)

    def approve():
        publication.decide(_db.session.get(User, ids[1]), _db.session.get(Application, ids[0]),
                           "approved", "同意")

    successes, refusals = race(app, approve)
    _record("double approval", successes, refusals)
    assert successes == 1
    from certify.publication.models import Decision

    assert db.session.execute(select(func.count()).select_from(Decision)).scalar() == 1


@pytest.mark.postgresql_only
def test_simultaneous_assignments_assign_once(app, db):
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
            assessment.assign_assessors(_db.session.get(User, admin.id),
                                        _db.session.get(Application, application.id),
                                        lead=_db.session.get(User, assessor_id))

    successes, refusals = race(app, assign)
    _record("simultaneous assignment", successes, refusals)
    assert successes == 1
    from certify.assessment.models import Assignment

    assert db.session.execute(select(func.count()).select_from(Assignment)).scalar() == 1


@pytest.mark.postgresql_only
def test_simultaneous_announcements_issue_each_certificate_once(app, db, monkeypatch):
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
    _record("simultaneous announcement", successes, refusals)
    assert successes == 1
    certificates = db.session.execute(select(Certificate)).scalars().all()
    assert len(certificates) == 3 and len({c.number for c in certificates}) == 3
    assert sorted(renders) == sorted(c.id for c in certificates)  # each PDF made once
    # One e-mail per listed application's applicant user, sent once.
    mails_after = db.session.execute(select(func.count()).select_from(MailMessage)).scalar()
    assert mails_after - mails_before == 3
    assert all(application.status == Status.LISTED for application in
               db.session.execute(select(Application)).scalars())


def test_zz_report_the_concurrency_figures(capsys, db):
    with capsys.disabled():
        for line in FIGURES:
            print(f"\nconcurrency: {line}")
