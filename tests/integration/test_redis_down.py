"""Redis down: what users meet (docs/deploy.md, "What each part's failure does"), on a Redis server
of this test's own that is stopped in the middle of the test and started again.

- Pages guarded by rate limits keep working: the limits are counted afresh in each process's memory
  while Redis is away (the sixth wrong password in a row is still refused), and in Redis again once
  it is back.
- A change that queues work is saved and answered as usual; its job is not queued (the e-mail
  stays in the mail log as queued), and the page does not fail.
"""

import subprocess
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis
from sqlalchemy import select

from certify.auth.models import User
from certify.mail.models import MailMessage
from tests import factories
from tests.servers import free_port

REDIS_SERVER = Path("/usr/bin/redis-server")
WAIT = 30  # seconds: a limit for a loaded machine, never reached otherwise
WRONG = {"password": "not the password"}


@contextmanager
def redis_server(port: int):
    """A Redis server on ``port`` that keeps nothing on disk, stopped afterwards."""
    process = subprocess.Popen([str(REDIS_SERVER), "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = redis.Redis(port=port)
    deadline = time.monotonic() + WAIT
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                raise
            time.sleep(.05)
    try:
        yield client
    finally:
        process.terminate()
        process.wait(timeout=WAIT)


@pytest.fixture()
def site(make_app, db):
    """An application whose jobs and rate limits are in a Redis of the test's own."""
    if not REDIS_SERVER.is_file():
        pytest.fail(f"{REDIS_SERVER} is needed for this test (apt-get install redis-server)")
    port = free_port()
    return make_app(REDIS_URL=f"redis://127.0.0.1:{port}/0", RATELIMIT_ENABLED=True), port


def test_with_redis_down_sign_in_stays_guarded_and_a_registration_is_saved(site, db):
    application, port = site
    user = factories.make_user("applicant")
    db.session.commit()
    browser = application.test_client()
    with redis_server(port) as store:
        assert browser.post("/login", data={"email": user.email, **WRONG}).status_code == 200
        assert store.keys("LIMITS*"), "the limits are counted in Redis while it is up"

    # Redis is down from here on.
    # Counted afresh in this process's memory: five more wrong passwords, and the sixth is refused.
    answers = [browser.post("/login", data={"email": user.email, **WRONG}).status_code for _ in range(6)]
    assert answers == [200] * 5 + [429]
    assert browser.get("/verify?number=SC-GF-2026-0001").status_code == 200

    registered = browser.post("/register", data={
        "kind": "enterprise", "organisation_name": "断线测试有限公司", "credit_code": factories.credit_code(),
        "city_code": "510100", "industry_code": "3011", "name": "甲", "email": "redis-down@example.com",
        "password": "long enough password", "confirm_password": "long enough password"})
    assert registered.status_code == 302
    db.session.expire_all()
    assert db.session.scalar(select(User).where(User.email == "redis-down@example.com")) is not None
    assert db.session.scalar(select(MailMessage.subject).where(MailMessage.recipient == "redis-down@example.com"))

    with redis_server(port) as store:  # back: the limits are counted in Redis again
        deadline = time.monotonic() + WAIT
        while not store.keys("LIMITS*"):
            assert time.monotonic() < deadline, "the limits went back to Redis once it answered"
            browser.get("/verify?number=SC-GF-2026-0002")
            time.sleep(.5)
