"""Response times at volume on PostgreSQL: p50 / p95 / p99 of the public list, an applicant's
workbench and /verify, with ``BENCH_APPLICATIONS`` applications (default 100,000), so that a change
that slows the slowest requests shows even when the average holds.

The database is ``certify_bench_<count>`` on the PostgreSQL of ``BENCH_POSTGRES_URL`` (default
``postgresql://postgres@127.0.0.1:5432/postgres``, the server that database is made on), built
once with the demo data and ``flask demo load --scale`` and kept while its stamp (the migration head
and the generator's source) holds. The pages are served by gunicorn (two sync workers,
``gunicorn.conf.py``); ``CONNECTIONS`` clients each send one request after another for
``BENCH_LATENCY_SECONDS`` (default 10) per page, after a warm-up, and every response's time is
kept; each request comes from an address of its own (``X-Forwarded-For`` behind
``CERTIFY_PROXY_FIX=1``), so the per-address rate limits count as for many visitors.
Results: ``latency_ms`` = {page: {"p50", "p95", "p99", "requests"}}.
"""

from __future__ import annotations

import os
import statistics
from pathlib import Path

from sqlalchemy import create_engine, make_url, select, text

from bench.lists import SECRET_KEY, _generator_stamp, fill_database, timed_requests
from tests.servers import served

ROOT = Path(__file__).resolve().parents[1]
CONNECTIONS = 4
PUBLIC_LIST = "/lists?kind=factory"
WORKBENCH = "/workbench"
BASE_URL = "http://127.0.0.1"


def server_url() -> str:
    return os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def database_name(count: int) -> str:
    return f"certify_bench_{count}"


def database_url(count: int | str) -> str:
    """The address of ``database_name(count)``, or of the database named ``count``."""
    name = count if isinstance(count, str) else database_name(count)
    return make_url(server_url()).set(database=name).render_as_string(hide_password=False)


def _settings(storage: Path, name: str) -> dict:
    return {"SQLALCHEMY_DATABASE_URI": database_url(name), "SECRET_KEY": SECRET_KEY,
            "CERTIFY_STORAGE_DIR": str(storage), "CERTIFY_BASE_URL": BASE_URL}


def prepare_database(count: int, folder: Path | None = None, echo=print, *, name: str | None = None,
                     shares: dict | None = None) -> Path:
    """The PostgreSQL database ``name`` (default ``database_name(count)``) with the demo and
    ``count`` volume applications in the states of ``shares`` (default ``load_scale``'s), built
    unless its stamp (in ``folder``, default instance/bench) says it holds them already; returns
    the storage folder beside the stamp."""
    folder = folder or ROOT / "instance" / "bench"
    folder.mkdir(parents=True, exist_ok=True)
    name = name or database_name(count)
    storage, stamp_file = folder / f"storage-{name}", folder / f"{name}.stamp"
    stamp = _generator_stamp(count)
    if stamp_file.exists() and stamp_file.read_text() == stamp and _exists(name):
        return storage
    echo(f"Building the PostgreSQL bench database {name} ({count} applications; once) ...")
    admin = create_engine(server_url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    fill_database(_settings(storage, name), count, echo, shares)
    stamp_file.write_text(stamp)
    return storage


def _exists(name: str) -> bool:
    engine = create_engine(server_url())
    try:
        with engine.connect() as connection:
            return connection.execute(text("SELECT 1 FROM pg_database WHERE datname = :name"),
                                      {"name": name}).first() is not None
    finally:
        engine.dispose()


def _targets(app) -> tuple[str, str]:
    """A valid certificate's /verify address, and the login cookie of the applicant with the most
    applications (the heaviest workbench)."""
    from sqlalchemy import func

    from certify.applications.models import Application
    from certify.auth.models import Role, User
    from certify.certificates.models import Certificate, CertificateStatus
    from certify.demo import DEMO_PASSWORD
    from certify.extensions import db

    with app.app_context():
        number = db.session.execute(select(Certificate.number).where(
            Certificate.status == CertificateStatus.VALID).order_by(Certificate.id.desc()).limit(1)).scalar_one()
        email = db.session.execute(
            select(User.email).join(Application, Application.organisation_id == User.organisation_id)
            .where(User.role == Role.APPLICANT).group_by(User.email)
            .order_by(func.count(Application.id).desc()).limit(1)).scalar_one()
    client = app.test_client()
    response = client.post("/login", data={"email": email, "password": DEMO_PASSWORD})
    assert response.status_code == 302, "the applicant could not log in"
    return f"/verify?number={number}", f"session={client.get_cookie('session').value}"


def _visitor(number: int) -> dict:
    """Each request from a visitor of its own, as behind the department's proxy: the per-address
    rate limits count (in the shared store) without refusing the load."""
    return {"X-Forwarded-For": f"10.{number >> 16 & 255}.{number >> 8 & 255}.{number & 255}"}


def response_times(port: int, path: str, cookie: str | None, seconds: float,
                   connections: int = CONNECTIONS) -> list[float]:
    """Milliseconds of every response of ``path`` from ``connections`` clients asking one after
    another for ``seconds``, each request as a visitor of its own."""
    return timed_requests(port, path, cookie, seconds, connections, headers_for=_visitor)


def percentiles(times: list[float]) -> dict:
    cuts = statistics.quantiles(times, n=100, method="inclusive")
    return {"p50": round(cuts[49], 1), "p95": round(cuts[94], 1), "p99": round(cuts[98], 1),
            "requests": len(times)}


def run(count: int | None = None, seconds: float | None = None, folder: Path | None = None) -> dict:
    from bench.lists import applications_wanted
    from certify import create_app

    count = count or applications_wanted()
    seconds = seconds or float(os.environ.get("BENCH_LATENCY_SECONDS", "10"))
    storage = prepare_database(count, folder)
    app = create_app(_settings(storage, database_name(count)) | {"WTF_CSRF_ENABLED": False})
    verify, cookie = _targets(app)
    environment = os.environ | {"DATABASE_URL": database_url(count), "SECRET_KEY": SECRET_KEY,
                                "CERTIFY_STORAGE_DIR": str(storage), "CERTIFY_BASE_URL": BASE_URL,
                                "CERTIFY_PROXY_FIX": "1"}
    latency = {}
    with served("wsgi:app", environment, workers=2) as port:
        for name, path, page_cookie in (("public_list", PUBLIC_LIST, None), ("workbench", WORKBENCH, cookie),
                                        ("verify", verify, None)):
            response_times(port, path, page_cookie, 2)  # warm-up: templates, catalogues, caches
            latency[name] = percentiles(response_times(port, path, page_cookie, seconds))
    return {"latency_ms": latency, "latency_applications": count, "latency_database": "postgresql"}
