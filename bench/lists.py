"""List pages at volume: the public list (公告名单) and the admin application list with filters,
over ``BENCH_APPLICATIONS`` applications (default 100,000; ``flask demo load --scale``).

- ``queries_per_page``: SQL statements one request of the public list runs at 10 and at 1,000
  rows per page (a ``before_cursor_execute`` listener); equal means no query per row.
- ``list_demo_scale_s``: how long ``flask demo load --scale`` took to generate them (when the
  database was last built).
- ``list_page_ratio``: requests per second of each page served by gunicorn (2 sync workers,
  ``gunicorn.conf.py``) under wrk (16 connections, on 127.0.0.1 like the server) divided by those
  of a minimal Flask endpoint that runs exactly the same SQL statements (captured from the real
  page) and returns a few bytes, served the same way; the smaller of the two ratios.

The database is built once into ``instance/bench/`` and kept (a stamp names the migration head
and the generator), so later runs start in seconds.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
from contextlib import contextmanager
from http.client import HTTPConnection
from pathlib import Path

from sqlalchemy import event

from tests.servers import served

ROOT = Path(__file__).resolve().parents[1]
TARGETS = {"list_page_ratio": (">=", 0.7), "queries_per_page": ("equal", None)}
PUBLIC_PAGE = "/lists?kind=factory"
ADMIN_PAGE = "/admin/applications?status=listed&kind=factory&sort=newest"
SECRET_KEY = "bench-secret-key-long-enough-for-certify"
BASE_URL = "http://127.0.0.1"
WARM_UP_SECONDS = 2


def applications_wanted() -> int:
    return int(os.environ.get("BENCH_APPLICATIONS", "100000"))


def bench_config(database_url: str, storage: Path) -> dict:
    return {"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": SECRET_KEY,
            "CERTIFY_STORAGE_DIR": str(storage), "CERTIFY_BASE_URL": BASE_URL}


def _generator_stamp(count: int) -> str:
    versions = sorted(p.name for p in (ROOT / "migrations" / "versions").glob("*.py"))
    source = b"".join(path.read_bytes() for path in sorted((ROOT / "certify" / "demo").glob("*.py")))
    return hashlib.sha256(json.dumps([count, versions]).encode() + source).hexdigest()[:16]


def prepare_database(count: int, folder: Path | None = None, *, echo=print) -> tuple[str, Path]:
    """A SQLite database with the demo data and ``count`` scale applications, built once and
    kept in ``folder`` (default ``instance/bench``); returns (database URL, storage folder)."""
    folder = folder or ROOT / "instance" / "bench"
    folder.mkdir(parents=True, exist_ok=True)
    path, storage = folder / f"scale-{count}.sqlite3", folder / "storage"
    stamp = folder / f"scale-{count}.stamp"
    url = f"sqlite:///{path}"
    if path.exists() and stamp.exists() and stamp.read_text() == _generator_stamp(count):
        return url, storage
    for leftover in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        leftover.unlink(missing_ok=True)
    echo(f"Building the benchmark database with {count} applications (once; kept in {folder})")
    seconds = fill_database(bench_config(url, storage), count, echo)
    (folder / f"scale-{count}.seconds").write_text(f"{seconds:.1f}")
    stamp.write_text(_generator_stamp(count))
    return url, storage


def fill_database(config: dict, count: int, echo=print, shares: dict | None = None) -> float:
    """Migrate the empty database of ``config``, load the demo data and ``count`` volume
    applications (in the states of ``shares``, default ``load_scale``'s), and gather the
    planner's statistics; returns the seconds the volume took."""
    from flask_migrate import upgrade

    from certify import create_app
    from certify.demo import load_demo, load_public_demo
    from certify.demo.scale import load_scale
    from certify.extensions import db

    app = create_app(config)
    with app.app_context():
        upgrade()
        load_demo()
        db.session.commit()
        load_public_demo()
        db.session.commit()
        started = time.perf_counter()
        load_scale(count, echo=echo, shares=shares)
        db.session.commit()
        seconds = time.perf_counter() - started
        db.session.execute(db.text("ANALYZE"))
        db.session.commit()
        if db.engine.dialect.name == "sqlite":
            # The load was one transaction: fold the write-ahead log (as large as the data) back in.
            db.session.execute(db.text("PRAGMA wal_checkpoint(TRUNCATE)"))
    return seconds


# ---- counting statements -----------------------------------------------------------------------

@contextmanager
def recorded_statements(engine):
    """Collect (statement, parameters) of everything ``engine`` executes inside the block."""
    seen = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def admin_session_cookie(app) -> str:
    """A signed session cookie of the demo administrator, for the load generator: the cookie a
    browser holds after its first page (with the session's form token), made just before it is
    used. A load generator sends the same cookie throughout while a browser stores each one it
    is sent: an older cookie would have every request refresh the session's last-seen time
    (``certify.security``, once a minute) or add the token, and re-sign the cookie each time."""
    from certify.demo import ADMIN_EMAIL, DEMO_PASSWORD

    client = app.test_client()
    response = client.post("/login", data={"email": ADMIN_EMAIL, "password": DEMO_PASSWORD})
    assert response.status_code == 302, "the demo administrator could not log in"
    assert client.get("/").status_code == 200
    cookie = client.get_cookie("session")
    return f"session={cookie.value}"


def page_statements(app, path: str, cookie: str | None = None) -> list:
    """The SQL statements (with parameters) one request of ``path`` runs, after a warm-up."""
    from certify.extensions import db

    client = app.test_client()
    if cookie:
        client.set_cookie(*cookie.split("=", 1))
    assert client.get(path).status_code == 200, path
    with app.app_context():
        engine = db.engine
    with recorded_statements(engine) as seen:
        assert client.get(path).status_code == 200, path
    return seen


def queries_per_page(app, sizes=(10, 1000)) -> dict:
    """Statements of one request of the public list at each page size."""
    counts = {}
    original = app.config["PAGE_SIZE"]
    try:
        for size in sizes:
            app.config["PAGE_SIZE"] = size
            counts[str(size)] = len(page_statements(app, PUBLIC_PAGE))
    finally:
        app.config["PAGE_SIZE"] = original
    return counts


def admin_queries_per_page(app, cookie: str, sizes=(10, 1000)) -> dict:
    return {str(size): len(page_statements(app, f"{ADMIN_PAGE}&per_page={size}", cookie))
            for size in sizes}


# ---- serving and loading -----------------------------------------------------------------------

def warm_up(port: int, path: str, cookie: str | None, connections: int = 16) -> None:
    """Two seconds of the load, not counted: each worker builds its app, compiles its templates
    and loads its catalogues on its first requests, and a few requests do not reach both."""
    _get(port, path, cookie)
    _load()(port, path, cookie, WARM_UP_SECONDS, connections)


def requests_per_second(port: int, path: str, cookie: str | None, seconds: float,
                        connections: int = 16) -> float:
    """Throughput of ``path`` under wrk (or the threaded fallback when wrk is missing)."""
    return _load()(port, path, cookie, seconds, connections)


def _load():
    return _wrk if shutil.which("wrk") else _threaded_load


def _get(port: int, path: str, cookie: str | None) -> None:
    for _ in range(4):
        connection = HTTPConnection("127.0.0.1", port, timeout=60)
        connection.request("GET", path, headers={"Cookie": cookie} if cookie else {})
        response = connection.getresponse()
        response.read()
        connection.close()
        if response.status != 200:
            raise RuntimeError(f"{path} answered {response.status}")


def _wrk(port: int, path: str, cookie: str | None, seconds: float, connections: int) -> float:
    command = ["wrk", "-t2", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency"]
    if cookie:
        command += ["-H", f"Cookie: {cookie}"]
    output = subprocess.run(command + [f"http://127.0.0.1:{port}{path}"], capture_output=True,
                            text=True, check=True).stdout
    if "Non-2xx" in output:
        raise RuntimeError(f"{path} answered errors under load:\n{output}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))


def timed_requests(port: int, path: str, cookie: str | None, seconds: float, connections: int,
                   headers_for=None) -> list[float]:
    """A small load generator: ``connections`` threads, each one keep-alive connection asking
    for ``path`` one request after another for ``seconds``; returns every response's time in
    milliseconds. ``headers_for(n)`` adds headers to the n-th request (counted over all threads)."""
    stop_at = time.monotonic() + seconds
    times: list[float] = []
    errors: list[int] = []
    numbers = itertools.count(1)

    def work() -> None:
        connection = HTTPConnection("127.0.0.1", port, timeout=60)
        while time.monotonic() < stop_at:
            headers = headers_for(next(numbers)) if headers_for else {}
            if cookie:
                headers["Cookie"] = cookie
            started = time.perf_counter()
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            response.read()
            times.append((time.perf_counter() - started) * 1000)
            if response.status != 200:
                errors.append(response.status)
                return
            if response.getheader("Connection", "").lower() == "close":
                connection.close()
                connection = HTTPConnection("127.0.0.1", port, timeout=60)

    threads = [threading.Thread(target=work) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise RuntimeError(f"{path} answered {errors[0]} under load")
    return times


def _threaded_load(port: int, path: str, cookie: str | None, seconds: float,
                   connections: int) -> float:
    """Requests per second under ``timed_requests`` (when wrk is missing)."""
    started = time.monotonic()
    times = timed_requests(port, path, cookie, seconds, connections)
    return len(times) / (time.monotonic() - started)


def measure_ratio(url: str, storage: Path, path: str, cookie: str | None, statements: list,
                  seconds: float, rounds: int = 4, settings: dict | None = None) -> tuple[float, float]:
    """(real page req/s, minimal endpoint req/s), both under the same gunicorn setup, served side
    by side and measured in turns (``rounds`` of each, ``seconds`` in all for each), so that a
    change in the machine's load during the run weighs on both alike. ``settings``: more
    environment for both servers."""
    env = os.environ | {"DATABASE_URL": url, "SECRET_KEY": SECRET_KEY, "CERTIFY_STORAGE_DIR": str(storage),
                        "CERTIFY_BASE_URL": BASE_URL} | (settings or {})
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump([[sql, list(params) if isinstance(params, (list, tuple)) else params]
                   for sql, params in statements], handle, default=str)
    try:
        with served("wsgi:app", env, workers=2) as real_port, \
                served("bench.minimal_app:app", env | {"BENCH_STATEMENTS": handle.name}, workers=2) as minimal_port:
            warm_up(real_port, path, cookie)
            warm_up(minimal_port, "/page", None)
            turn = seconds / rounds
            real, minimal = [], []
            for _ in range(rounds):
                real.append(requests_per_second(real_port, path, cookie, turn))
                minimal.append(requests_per_second(minimal_port, "/page", None, turn))
    finally:
        os.unlink(handle.name)
    return sum(real) / rounds, sum(minimal) / rounds


def run(count: int | None = None, seconds: float | None = None) -> dict:
    count = count or applications_wanted()
    seconds = seconds or float(os.environ.get("BENCH_SECONDS", "8"))
    url, storage = prepare_database(count)
    from certify import create_app

    app = create_app(bench_config(url, storage) | {"WTF_CSRF_ENABLED": False})
    cookie = admin_session_cookie(app)
    built = ROOT / "instance" / "bench" / f"scale-{count}.seconds"
    results = {"list_applications": count,
               "list_demo_scale_s": float(built.read_text()) if built.exists() else None,
               "queries_per_page": queries_per_page(app),
               "queries_per_page_admin": admin_queries_per_page(app, cookie)}
    ratios = {}
    for name, path, signed_in in (("public", PUBLIC_PAGE, False), ("admin", ADMIN_PAGE, True)):
        page_cookie = admin_session_cookie(app) if signed_in else None
        statements = page_statements(app, path, page_cookie)
        real, minimal = measure_ratio(url, storage, path, page_cookie, statements, seconds)
        results[f"list_{name}_rps"] = round(real, 1)
        results[f"list_{name}_minimal_rps"] = round(minimal, 1)
        ratios[name] = real / minimal
    results["list_page_ratio"] = round(min(ratios.values()), 2)
    return results
