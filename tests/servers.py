"""Real server processes for the tests and the benchmarks: gunicorn (``gunicorn.conf.py``) on a
free port, waited for until it answers, and stopped afterwards; and the environment of a process
that works on a test database.

Imported by ``bench`` too (``python -m bench`` runs from the project's folder), so nothing here
imports the test suite's fixtures.
"""

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from http.client import HTTPConnection, HTTPException
from pathlib import Path
from typing import IO

from sqlalchemy import make_url

ROOT = Path(__file__).resolve().parents[1]
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))

# The environment variables of the application's own settings: a process started for a test
# gets the ones the test gives and no others.
_OWN_SETTINGS = ("CERTIFY_", "REDIS_", "DATABASE_", "MAIL_", "FLASK_", "RATELIMIT_")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def process_database_url(url: str, schema: str) -> str:
    """``url`` as a process of its own reaches the test database: on PostgreSQL in ``schema``
    (each test run works in a schema of its own), elsewhere as it is."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        return url
    return parsed.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)


def process_environment(**settings: str) -> dict:
    """This process's environment without the application's settings, plus ``settings``."""
    return {name: value for name, value in os.environ.items()
            if not name.startswith(_OWN_SETTINGS)} | settings


@contextmanager
def served(app_path: str, environment: Mapping[str, str], *, workers: int = 1,
           log: Path | None = None) -> Iterator[int]:
    """``gunicorn -c gunicorn.conf.py <app_path>`` with ``workers`` sync workers on a free port,
    its output in ``log`` (else a temporary file); yields the port once the application answers,
    and stops the server afterwards."""
    port = free_port()
    environment = {**environment, "GUNICORN_BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": str(workers),
                   # Recycling restarts a worker in the middle of a test or a measurement.
                   "GUNICORN_MAX_REQUESTS": "0", "GUNICORN_ACCESS_LOG": "", "PYTHONPATH": str(ROOT)}
    with (log.open("w+b") if log else tempfile.TemporaryFile()) as output:
        process = subprocess.Popen([GUNICORN, "-c", str(ROOT / "gunicorn.conf.py"), app_path], cwd=ROOT,
                                   env=environment, stdout=output, stderr=output, start_new_session=True)
        try:
            _wait_until_up(process, port, output)
            yield port
        finally:
            stop(process)


def stop(process: subprocess.Popen) -> None:
    """SIGTERM, as a service manager stops the server; SIGKILL if it is not gone in 20 seconds."""
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _wait_until_up(process: subprocess.Popen, port: int, output: IO[bytes], timeout: float = 60) -> None:
    """Until the application answers a request (a worker that fails to start leaves the port
    open, so an open port is not enough)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        connection = HTTPConnection("127.0.0.1", port, timeout=5)
        try:
            connection.request("GET", "/healthz")
            connection.getresponse().read()
            return
        except (OSError, HTTPException):
            time.sleep(0.2)
        finally:
            connection.close()
    output.seek(0)
    raise RuntimeError(f"the application did not start: {output.read().decode(errors='replace')[-2000:]}")
