"""Several hosts sharing one deployment: two application processes (gunicorn), each with an
instance folder of its own (``CERTIFY_INSTANCE_PATH``) and no disk shared with the other, one
database, one Redis and one S3 bucket (SeaweedFS), and a job worker on a third host.

An applicant uploads evidence through the first host and the assessor downloads it through the
second; the worker renders the certificates of an announcement into the bucket; /verify on either
host serves the same PDF; a session opened on one host holds on the other, and so does the count
of wrong passwords."""

import hashlib
import re
import shutil
import subprocess
import sys
import time
import uuid
from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
import redis
import requests
from sqlalchemy import func, select

from certify.applications import services as applications
from certify.applications.models import Application, Evidence
from certify.audit.keys import create_key, load_key
from certify.auth.models import Role, User
from certify.certificates.models import Certificate, RenderState
from certify.extensions import db as _db
from certify.pdf.fonts import font_dir
from certify.storage.s3 import S3Storage
from certify.timeutil import local_today
from certify.workflow import Status
from tests import factories
from tests.conftest import PG_SCHEMA, S3_BUCKET, TEST_SECRET_KEY
from tests.integration.test_evidence_and_submission import PNG
from tests.servers import process_database_url, process_environment, served, stop

REDIS_URL = "redis://127.0.0.1:6379/13"
FLASK = str(Path(sys.executable).parent / "flask")
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')
ENTRIES = 3
WAIT = 180  # seconds: a limit for a loaded machine, never reached otherwise


@pytest.fixture()
def deployment(make_app, app, db, database_url, seaweedfs, tmp_path, monkeypatch):
    """The shared parts and two web hosts; yields the hosts' addresses, the settings every host
    shares and the in-process application configured as they are (for the department's work
    done here rather than through pages)."""
    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except redis.ConnectionError as error:
        pytest.fail(f"Redis is needed at {REDIS_URL} for this test: {error}")
    # The rate limits a run before this one counted (the same test accounts, on the other
    # database) would still hold for minutes: every count starts from nothing.
    for key in redis.Redis.from_url(REDIS_URL).scan_iter("LIMITS*"):
        redis.Redis.from_url(REDIS_URL).delete(key)
    for name, value in seaweedfs.items():  # boto3 in this process reaches the bucket as the hosts do
        monkeypatch.setenv(name, value)
    storage_url = f"s3://{S3_BUCKET}/hosts-{uuid.uuid4().hex[:12]}/"
    queue = f"certify-hosts-{uuid.uuid4().hex[:12]}"
    shared = {"SECRET_KEY": TEST_SECRET_KEY, "CERTIFY_STORAGE_URL": storage_url, "REDIS_URL": REDIS_URL,
              "CERTIFY_QUEUE": queue, "CERTIFY_BASE_URL": "http://127.0.0.1"}
    site = make_app(**shared)
    with site.app_context():
        fonts = str(font_dir())
        audit_key = (load_key() or create_key()).path
    environment = process_environment(
        FLASK_APP="certify", DATABASE_URL=process_database_url(database_url, PG_SCHEMA), CERTIFY_FONT_DIR=fonts,
        **shared) | seaweedfs

    def host(name: str) -> dict:
        """The environment of one host: its own instance folder, holding its own copy of the
        deployment's audit key (a secret every host is given, as the secret key is)."""
        folder = tmp_path / name
        folder.mkdir()
        shutil.copyfile(audit_key, folder / "audit_key")
        return environment | {"CERTIFY_INSTANCE_PATH": str(folder)}

    with ExitStack() as stack:
        ports = [stack.enter_context(served("wsgi:app", host(name), log=tmp_path / f"{name}.log"))
                 for name in ("host-a", "host-b")]
        yield SimpleNamespace(urls=[f"http://127.0.0.1:{port}" for port in ports], site=site,
                              worker_environment=host("host-w"), folders=tmp_path, storage_url=storage_url)
    connection = redis.Redis.from_url(REDIS_URL)
    for key in connection.scan_iter(f"*{queue}*"):
        connection.delete(key)


def signed_in(url: str, email: str) -> requests.Session:
    """A browser signed in as ``email`` at the host of ``url``."""
    browser = requests.Session()
    response = browser.post(f"{url}/login", data={"csrf_token": token(browser, f"{url}/login"),
                                                  "email": email, "password": factories.PASSWORD},
                            allow_redirects=False, timeout=30)
    assert response.status_code == 302, response.text[-500:]
    return browser


def token(browser: requests.Session, page: str) -> str:
    response = browser.get(page, timeout=30)
    assert response.status_code == 200, response.text[-500:]
    match = CSRF.search(response.text)
    return match.group(1) or match.group(2)


def test_evidence_uploaded_on_one_host_is_downloaded_on_the_other(deployment):
    first, second = deployment.urls
    with deployment.site.app_context():
        applicant = factories.make_user(Role.APPLICANT)
        application = factories.complete_application(applicant)
        _db.session.commit()
        applicant_id, email, application_id, version = applicant.id, applicant.email, application.id, application.version

    browser = signed_in(first, email)
    section = f"{first}/applications/{application_id}/sections/strategy"
    response = browser.post(section, data={"csrf_token": token(browser, section), "version": version},
                            files={"f-X11": ("现场照片.png", PNG, "image/png")}, allow_redirects=False, timeout=30)
    assert response.status_code == 302, response.text[-500:]

    with deployment.site.app_context(), deployment.site.test_request_context():
        evidence = _db.session.execute(select(Evidence).where(Evidence.original_name == "现场照片.png")).scalar_one()
        assert evidence.sha256 == hashlib.sha256(PNG).hexdigest()
        assert S3Storage.from_url(deployment.storage_url).exists(evidence.sha256)
        # Submitted, and assigned to an assessor by the department.
        applicant = _db.session.get(User, applicant_id)
        application = _db.session.get(Application, application_id)
        applications.submit_application(applicant, application, pledge_name=applicant.name, pledge_accepted=True)
        assessor = factories.make_assessor()
        factories.assign(application, assessor)
        _db.session.commit()
        evidence_id, assessor_email = evidence.id, assessor.email
        stranger_email = factories.make_user(Role.APPLICANT).email
        _db.session.commit()
    # Nothing of it on either host's disk: the bucket holds it.
    assert not any((deployment.folders / name / "storage").exists() for name in ("host-a", "host-b"))

    download = f"{second}/applications/{application_id}/evidence/{evidence_id}"
    downloaded = signed_in(second, assessor_email).get(download, timeout=30)
    assert downloaded.status_code == 200 and downloaded.content == PNG
    # Another applicant gets nothing, whichever host answers.
    assert signed_in(second, stranger_email).get(download, timeout=30).status_code == 404
    assert signed_in(first, stranger_email).get(download.replace(second, first), timeout=30).status_code == 404


def test_a_worker_on_a_third_host_renders_what_either_host_then_serves(deployment):
    from certify.demo.scale import load_scale
    from certify.publication import services as publication
    from certify.publication.models import Batch

    with deployment.site.app_context():
        admin = factories.make_user(Role.ADMIN)
        factories.make_assessor()
        load_scale(ENTRIES, shares={Status.IN_NOTICE: 1.0}, echo=lambda *_: None)
        batch = _db.session.execute(select(Batch)).scalar_one()
        batch.notice_starts_on = local_today() - timedelta(days=20)
        batch.notice_ends_on = local_today() - timedelta(days=6)
        _db.session.commit()
        with deployment.site.test_request_context():
            publication.announce(admin, batch)  # the rendering is queued for the worker
        _db.session.commit()
        numbers = _db.session.execute(select(Certificate.number).order_by(Certificate.id)).scalars().all()
    assert len(numbers) == ENTRIES

    log = (deployment.folders / "host-w.log").open("wb")
    worker = subprocess.Popen([FLASK, "worker"], env=deployment.worker_environment, cwd=deployment.folders,
                              stdout=log, stderr=log, start_new_session=True)
    try:
        deadline = time.monotonic() + WAIT
        while rendered(deployment) < ENTRIES:
            assert worker.poll() is None, "the worker stopped"
            assert time.monotonic() < deadline, (
                f"{rendered(deployment)} of {ENTRIES} rendered: {(deployment.folders / 'host-w.log').read_text()[-3000:]}")
            time.sleep(0.5)
    finally:
        stop(worker)
        log.close()

    for number in numbers:
        served_by = [requests.get(f"{url}/certificates/{number}.pdf", timeout=30) for url in deployment.urls]
        assert [r.status_code for r in served_by] == [200, 200]
        assert served_by[0].content.startswith(b"%PDF-") and served_by[0].content == served_by[1].content
        for url in deployment.urls:
            page = requests.get(f"{url}/verify", params={"number": number}, headers={"Accept-Language": "en"},
                                timeout=30).text
            assert "Valid certificate" in page and number in page


def rendered(deployment) -> int:
    with deployment.site.app_context():
        count = _db.session.execute(select(func.count()).select_from(Certificate)
                                    .where(Certificate.render_state == RenderState.RENDERED)).scalar_one()
        _db.session.rollback()
    return count


def test_a_session_and_the_wrong_password_count_hold_across_hosts(deployment):
    first, second = deployment.urls
    with deployment.site.app_context():
        email = factories.make_user(Role.APPLICANT, name="李四").email
        target = factories.make_user(Role.APPLICANT).email
        _db.session.commit()

    browser = signed_in(first, email)
    workbench = browser.get(f"{second}/workbench", allow_redirects=False, timeout=30)
    assert workbench.status_code == 200 and "李四" in workbench.text

    visitor = requests.Session()
    answers = []
    for attempt in range(7):
        url = deployment.urls[attempt % 2]
        answers.append(visitor.post(f"{url}/login", data={
            "csrf_token": token(visitor, f"{url}/login"), "email": target, "password": f"wrong {attempt}"},
            allow_redirects=False, timeout=30).status_code)
    assert answers == [200] * 5 + [429] * 2  # the 6th wrong password is refused, on the other host
