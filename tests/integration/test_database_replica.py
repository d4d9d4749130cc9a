"""The database's streaming replica and its promotion, as ``compose.hosts.yaml`` and docs/deploy.md
("When a part fails") set them up and recover, run for real on PostgreSQL servers of this test's
own (the machine's PostgreSQL binaries, two clusters on free loopback ports):

- the primary is prepared by ``deploy/postgres/primary-init.sh`` (the replication role and its line
  of pg_hba.conf), with passwords checked (scram-sha-256) as in the compose file;
- the replica is copied by the compose file's own command (``pg_basebackup -R -X stream -c fast`` as the
  replication role) and follows every commit of certify's on the primary, read-only;
- when the primary is lost, ``SELECT pg_promote()`` makes the replica the database: certify
  pointed at it finds everything committed before the loss, a user signs in, and new work is saved.
"""

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.exc import DBAPIError

from certify import create_app
from certify.auth.models import User
from certify.extensions import db
from certify.organisations.models import Organisation
from tests import factories
from tests.conftest import test_config as settings_for
from tests.servers import ROOT, free_port

BINARIES = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
PASSWORD, REPLICATION_PASSWORD = "primary-secret", "replication-secret"
WAIT = 60  # seconds: a limit for a loaded machine, never reached otherwise

def _as_postgres(*arguments, env: dict | None = None, **options) -> subprocess.CompletedProcess:
    """Run a PostgreSQL program as the ``postgres`` user (the server refuses to run as root)."""
    command = [str(a) for a in arguments]
    if os.geteuid() == 0:
        command = ["runuser", "-u", "postgres", "--", "env", *(f"{k}={v}" for k, v in (env or {}).items()), *command]
        env = None
    done = subprocess.run(command, env=os.environ | (env or {}), capture_output=True, text=True, timeout=WAIT,
                          **options)
    if done.returncode:  # what the program said, in the failure's message
        raise subprocess.CalledProcessError(done.returncode, command, done.stdout,
                                            done.stderr) from AssertionError(done.stderr.strip()[-2000:])
    return done


class Cluster:
    """One PostgreSQL server of the test's own, in ``folder`` on ``port``."""

    def __init__(self, folder: Path, port: int):
        self.folder, self.port = folder, port
        self.bin = BINARIES[-1].parent  # the newest installed

    def url(self, database: str = "certify", user: str = "certify", password: str = PASSWORD) -> str:
        return f"postgresql+psycopg://{user}:{password}@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        _as_postgres(self.bin / "pg_ctl", "-D", self.folder, "-w", "-t", WAIT, "-l", self.folder.parent / f"{self.folder.name}.log",
                     "-o", f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.folder.parent}", "start")

    def stop(self, mode: str = "fast") -> None:
        _as_postgres(self.bin / "pg_ctl", "-D", self.folder, "-m", mode, "-w", "stop")

    def running(self) -> bool:
        return (self.folder / "postmaster.pid").exists()


@pytest.fixture()
def folder(tmp_path):
    """A folder the ``postgres`` user may write in."""
    if not BINARIES:
        pytest.fail("PostgreSQL's server programs are needed for this test: apt-get install -y postgresql "
                    "(make install-test installs it)")
    place = tmp_path / "clusters"
    place.mkdir()
    if os.geteuid() == 0:
        shutil.chown(place, "postgres", "postgres")
        for parent in (tmp_path, *tmp_path.parents):
            if parent == Path("/"):
                break
            parent.chmod(parent.stat().st_mode | 0o011)  # the postgres user may pass through
    return place


@pytest.fixture()
def primary(folder):
    """The primary, made as the official image makes it (a superuser ``certify`` with a password,
    the database ``certify``, then the scripts of /docker-entrypoint-initdb.d), and started."""
    cluster = Cluster(folder / "primary", free_port())
    secret = folder / "password"
    secret.write_text(PASSWORD)
    if os.geteuid() == 0:
        shutil.chown(secret, "postgres", "postgres")
    _as_postgres(cluster.bin / "initdb", "-D", cluster.folder, "-U", "certify", f"--pwfile={secret}",
                 "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8")
    cluster.start()
    try:
        environment = {"PGHOST": "127.0.0.1", "PGPORT": str(cluster.port), "PGPASSWORD": PASSWORD,
                       "POSTGRES_USER": "certify", "POSTGRES_DB": "postgres", "PGDATA": str(cluster.folder),
                       "REPLICATION_PASSWORD": REPLICATION_PASSWORD}
        _as_postgres("createdb", "-h", "127.0.0.1", "-p", cluster.port, "-U", "certify", "certify", env=environment)
        environment["POSTGRES_DB"] = "certify"
        _as_postgres("sh", ROOT / "deploy/postgres/primary-init.sh", env=environment)
        _as_postgres(cluster.bin / "pg_ctl", "-D", cluster.folder, "reload")
        yield cluster
    finally:
        if cluster.running():
            cluster.stop("immediate")


def _replica_of(primary: Cluster, folder: Path) -> Cluster:
    """The replica, copied as the compose file's ``db-replica`` does on an empty volume."""
    replica = Cluster(folder / "replica", free_port())
    _as_postgres(replica.bin / "pg_basebackup", "-h", "127.0.0.1", "-p", primary.port, "-U", "replicator",
                 "-D", replica.folder, "-R", "-X", "stream", "-c", "fast", env={"PGPASSWORD": REPLICATION_PASSWORD})
    replica.folder.chmod(0o700)
    replica.start()
    return replica


def _application(cluster: Cluster):
    """certify on ``cluster``'s database ``certify``, in its default schema (not the run's)."""
    return create_app(settings_for(cluster.url(), cluster.folder.parent / "storage")
                      | {"SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True}})


def _wait_for(check, what: str):
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        if found := check():
            return found
        time.sleep(.2)
    raise AssertionError(f"{what} within {WAIT} s")


def test_the_replica_follows_the_primary_and_takes_over_when_it_is_lost(primary, folder):
    from flask_migrate import upgrade

    site = _application(primary)
    with site.app_context():
        upgrade()
        applicant = factories.make_user("applicant")
        db.session.commit()
        email = applicant.email
    replica = _replica_of(primary, folder)
    try:
        # The role's password is checked: a wrong one is refused.
        with pytest.raises(subprocess.CalledProcessError) as refused:
            _as_postgres(replica.bin / "pg_basebackup", "-h", "127.0.0.1", "-p", primary.port, "-U", "replicator",
                         "-D", folder / "refused", "-X", "stream", "-c", "fast", "-w", env={"PGPASSWORD": "wrong"})
        assert "password authentication failed" in refused.value.stderr
        standby = create_engine(replica.url())
        with site.app_context():  # a commit on the primary after the copy is streamed to it
            late = factories.make_user("applicant", organisation=db.session.get(Organisation, applicant.organisation_id))
            db.session.commit()
            late_email = late.email

        def streamed():
            with standby.connect() as connection:
                return connection.scalar(select(func.count()).select_from(User).where(User.email == late_email))
        assert _wait_for(streamed, "the replica did not receive the primary's last commit") == 1
        with standby.connect() as connection:
            assert connection.scalar(text("SELECT pg_is_in_recovery()")) is True
            with pytest.raises(DBAPIError, match="read-only"):
                connection.execute(text("UPDATE users SET name = name"))

        primary.stop("immediate")  # the primary's host is lost
        with standby.connect() as connection:
            assert connection.scalar(text("SELECT pg_promote()")) is True
        standby.dispose()

        taken_over = _application(replica)
        with taken_over.app_context():
            assert db.session.scalar(select(func.count()).select_from(User)
                                     .where(User.email.in_([email, late_email]))) == 2
            browser = taken_over.test_client()
            signed_in = browser.post("/login", data={"email": late_email, "password": factories.PASSWORD})
            assert signed_in.status_code == 302
            assert browser.get("/workbench").status_code == 200
            assert browser.get("/healthz").json == {"status": "ok", "database": "ok"}
            newcomer = factories.make_user("applicant")  # new work is saved on the promoted replica
            db.session.commit()
            assert db.session.get(User, newcomer.id).email == newcomer.email
    finally:
        if replica.running():
            replica.stop("immediate")
