"""Rate limits hold across processes: two instances of the application serving one database
(each a gunicorn process of its own, as the workers of `make run` are) share every count, in
the database when there is no Redis and in Redis when there is. The per-process store is shown
to fail the same test, so the test can tell."""

import re
import threading
import time
from contextlib import ExitStack, contextmanager
from http.cookiejar import CookieJar
from pathlib import Path
from urllib.error import HTTPError
from urllib.parse import urlencode
from urllib.request import HTTPCookieProcessor, HTTPRedirectHandler, Request, build_opener

import pytest
import redis
from limits import parse
from limits.storage import MemoryStorage, RedisStorage
from limits.strategies import FixedWindowRateLimiter
from sqlalchemy import func, select

from certify.extensions import limiter
from certify.ratelimit import DatabaseStorage, RateLimitCounter
from tests import factories
from tests.conftest import PG_SCHEMA, TEST_SECRET_KEY
from tests.servers import process_database_url, process_environment, served

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = "redis://127.0.0.1:6379/13"
CSRF_TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


# ---- the store itself, on the test database -------------------------------------------------

def test_a_window_counts_its_hits_and_a_new_one_starts_when_it_ends(db):
    limits = FixedWindowRateLimiter(DatabaseStorage())
    two_a_second = parse("2 per second")
    assert [limits.hit(two_a_second, "window") for _ in range(3)] == [True, True, False]
    assert limits.get_window_stats(two_a_second, "window").remaining == 0
    time.sleep(1.1)
    assert limits.hit(two_a_second, "window")
    assert limits.get_window_stats(two_a_second, "window").remaining == 1


def test_long_keys_are_kept_apart(db):
    limits = FixedWindowRateLimiter(DatabaseStorage())
    once = parse("1 per minute")
    first, second = "x" * 400 + "1", "x" * 400 + "2"
    assert limits.hit(once, first) and limits.hit(once, second)
    assert not limits.hit(once, first)


def test_rows_of_ended_windows_are_deleted(db):
    storage = DatabaseStorage()
    storage.incr("short", 1)
    time.sleep(1.1)
    storage._cleaned_at = 0  # as if the last cleaning were long ago
    storage.incr("other", 60)
    keys = db.session.execute(select(RateLimitCounter.key)).scalars().all()
    assert keys == ["other"]


def test_cleaning_skips_rows_another_process_holds_and_never_fails_the_hit(app, db):
    """Two processes cleaning at once used to lock the same ended rows in different orders; on
    PostgreSQL one of them was ended as a deadlock and its request answered 500."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite serialises writers by itself")
    storage = DatabaseStorage()
    for key in ("ended-1", "ended-2", "held"):
        storage.incr(key, 1)
    time.sleep(1.1)
    with db.engine.connect() as other:  # another process, in the middle of its own cleaning
        with other.begin():
            other.execute(select(RateLimitCounter.key).where(RateLimitCounter.key == "held").with_for_update())
            storage._cleaned_at = 0
            started = time.monotonic()
            assert storage.incr("new", 60) == 1
            assert time.monotonic() - started < 5  # did not wait for the other transaction
    keys = db.session.execute(select(RateLimitCounter.key).order_by(RateLimitCounter.key)).scalars().all()
    assert keys == ["held", "new"]


def test_hits_racing_in_threads_never_take_more_than_the_limit(app, db):
    limits = FixedWindowRateLimiter(DatabaseStorage())
    fifty = parse("50 per minute")
    granted, start = [], threading.Barrier(4)

    def hammer():
        with app.app_context():
            start.wait()
            granted.extend(limits.hit(fifty, "race") for _ in range(20))

    threads = [threading.Thread(target=hammer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(granted) == 80 and granted.count(True) == 50


def test_one_client_address_verifies_at_most_thirty_numbers_a_minute(client, db):
    statuses = [client.get(f"/verify?number=SC-GF-2026-{n:04d}").status_code for n in range(31)]
    assert statuses == [200] * 30 + [429]
    other = client.get("/verify?number=SC-GF-2026-0001", environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert other.status_code == 200


def test_the_store_is_redis_when_configured_else_the_database(make_app, monkeypatch):
    make_app()
    assert isinstance(limiter.storage, DatabaseStorage)
    make_app(REDIS_URL=REDIS_URL)
    assert isinstance(limiter.storage, RedisStorage)
    monkeypatch.setenv("RATELIMIT_STORAGE_URI", "memory://")
    make_app(REDIS_URL=REDIS_URL)
    assert isinstance(limiter.storage, MemoryStorage)


# ---- two processes -------------------------------------------------------------------------

@contextmanager
def instances(database_url: str, folder: Path, count: int = 2, **settings):
    """``count`` gunicorn processes of one worker each, on one database; yields their base URLs."""
    environment = process_environment(
        SECRET_KEY=TEST_SECRET_KEY, DATABASE_URL=process_database_url(database_url, PG_SCHEMA),
        CERTIFY_BASE_URL="http://127.0.0.1", CERTIFY_STORAGE_DIR=str(folder / "storage"), **settings)
    with ExitStack() as stack:
        ports = [stack.enter_context(served("wsgi:app", environment, log=folder / f"gunicorn-{number}.log"))
                 for number in range(count)]
        yield [f"http://127.0.0.1:{port}" for port in ports]


class _NoRedirect(HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    """One visitor: a cookie jar shared by every instance (cookies do not depend on the port)."""

    def __init__(self):
        self.opener = build_opener(HTTPCookieProcessor(CookieJar()), _NoRedirect())

    def request(self, url: str, data: dict | None = None) -> tuple[int, str]:
        body = urlencode(data).encode() if data is not None else None
        try:
            with self.opener.open(Request(url, data=body), timeout=30) as response:  # noqa: S310 - local http only
                return response.status, response.read().decode("utf-8", "replace")
        except HTTPError as error:
            return error.code, error.read().decode("utf-8", "replace")

    def csrf_token(self, url: str) -> str:
        status, page = self.request(url)
        assert status == 200, page[-500:]
        match = CSRF_TOKEN.search(page)
        return match.group(1) or match.group(2)


def logins_in_turn(urls: list[str], email: str, passwords: list[str]) -> list[int]:
    """Logins as ``email`` with each of ``passwords``, sent to each instance in turn; the status
    of each answer."""
    browser = Browser()
    token = browser.csrf_token(urls[0] + "/login")
    return [browser.request(urls[attempt % len(urls)] + "/login",
                            {"csrf_token": token, "email": email, "password": password})[0]
            for attempt, password in enumerate(passwords)]


def wrong_passwords_in_turn(urls: list[str], email: str, attempts: int) -> list[int]:
    return logins_in_turn(urls, email, [f"wrong {attempt}" for attempt in range(attempts)])


@pytest.fixture()
def account(db):
    user = factories.make_user(email="target@example.com")
    db.session.commit()
    return user


@pytest.fixture()
def empty_redis():
    connection = redis.Redis.from_url(REDIS_URL)
    try:
        connection.flushdb()
    except redis.ConnectionError as error:
        pytest.fail(f"Redis is needed at {REDIS_URL} for this test: {error}")
    yield
    connection.flushdb()


def test_without_redis_the_sixth_wrong_password_is_refused_whichever_process_answers(
        database_url, account, db, tmp_path):
    with instances(database_url, tmp_path) as urls:
        statuses = wrong_passwords_in_turn(urls, account.email, 8)
        # Even the right password waits, at either instance.
        right = logins_in_turn(urls, account.email, [factories.PASSWORD] * 2)
    print(f"\nrate limits in the database, 2 processes: answers {statuses}")
    assert statuses == [200] * 5 + [429] * 3  # the 6th went to the second process, the 7th to the first
    assert right == [429, 429]
    stored = db.session.execute(select(func.count()).select_from(RateLimitCounter)).scalar_one()
    assert stored >= 2  # the account's count and the client address's


def test_wrong_passwords_sent_at_once_to_both_processes_pass_five_times_only(
        database_url, account, tmp_path):
    email = account.email
    with instances(database_url, tmp_path) as urls:
        browser = Browser()
        token = browser.csrf_token(urls[0] + "/login")
        start, statuses = threading.Barrier(10), []

        def attempt(number: int):
            start.wait()
            statuses.append(browser.request(urls[number % 2] + "/login", {
                "csrf_token": token, "email": email, "password": f"wrong {number}"})[0])

        threads = [threading.Thread(target=attempt, args=(number,)) for number in range(10)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    print(f"\nrate limits in the database, 10 attempts at once on 2 processes: {sorted(statuses)}")
    assert sorted(statuses) == [200] * 5 + [429] * 5


def test_the_right_password_ends_a_run_of_failures(client, db):
    user = factories.make_user()
    db.session.commit()
    wrong = {"email": user.email, "password": "wrong password"}
    right = {"email": user.email, "password": factories.PASSWORD}
    statuses = [client.post("/login", data=wrong).status_code for _ in range(4)]
    statuses.append(client.post("/login", data=right).status_code)
    client.post("/logout")
    statuses += [client.post("/login", data=wrong).status_code for _ in range(6)]
    assert statuses == [200] * 4 + [302] + [200] * 5 + [429]


def test_with_redis_the_sixth_wrong_password_is_refused_whichever_process_answers(
        database_url, account, tmp_path, empty_redis):
    with instances(database_url, tmp_path, REDIS_URL=REDIS_URL) as urls:
        statuses = wrong_passwords_in_turn(urls, account.email, 8)
    print(f"\nrate limits in Redis, 2 processes: answers {statuses}")
    assert statuses == [200] * 5 + [429] * 3
    assert redis.Redis.from_url(REDIS_URL).keys("LIMITS:*")


def test_counts_kept_per_process_would_let_more_through(database_url, account, tmp_path):
    """The control: with the in-memory store each process grants the limit again."""
    with instances(database_url, tmp_path, RATELIMIT_STORAGE_URI="memory://") as urls:
        statuses = wrong_passwords_in_turn(urls, account.email, 8)
    print(f"\nrate limits in memory, 2 processes: answers {statuses}")
    assert statuses.count(200) == 8
