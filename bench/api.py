"""The API's certificate lookup by credit code at volume, on PostgreSQL: ``BENCH_API_CERTIFICATES``
certificates (default 100,000), one per volume application, every one announced.

- ``api_lookup_ratio``: requests per second of ``GET /api/v1/certificates?credit_code=…`` (a unit
  holding several certificates) served by gunicorn (2 sync workers, ``gunicorn.conf.py``) under
  wrk, divided by those of a minimal Flask endpoint that runs exactly the same SQL statements
  (captured from the real request) and returns a few bytes, served the same way and measured in
  turns with it (``bench.lists.measure_ratio``). Both servers get an anonymous rate limit the load
  cannot reach, so that every request is answered, not refused; the real one still counts each
  request against it, as in service.
- ``api_lookup_latency_ms``: p50 / p95 / p99 of the same request from ``bench.latency``'s
  clients, each request from an address of its own (the configured rate limits unchanged).

The database is ``certify_bench_api_<count>`` on the PostgreSQL of ``BENCH_POSTGRES_URL``, built
once and kept while its stamp holds (``bench.latency.prepare_database``).
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import func, select

from bench.latency import BASE_URL, SECRET_KEY, database_url, percentiles, prepare_database, response_times
from bench.lists import measure_ratio, page_statements
from tests.servers import served

TARGETS = {"api_lookup_ratio": (">=", 0.5)}
# Every volume application announced: listed, or revoked or expired since, as the department's
# lists hold them after some years.
SHARES = {"listed": .91, "revoked": .02, "expired": .07}
# A limit no benchmark load reaches, for the ratio's two servers only.
UNREACHED_LIMIT = "1000000 per minute"


def certificates_wanted() -> int:
    return int(os.environ.get("BENCH_API_CERTIFICATES", "100000"))


def database_name(count: int) -> str:
    return f"certify_bench_api_{count}"


def lookup_path(app) -> str:
    """The lookup of the unit holding the most certificates (the heaviest answer)."""
    from certify.certificates.models import Certificate
    from certify.extensions import db

    with app.app_context():
        code = db.session.execute(
            select(Certificate.credit_code).where(Certificate.credit_code != "")
            .group_by(Certificate.credit_code).order_by(func.count().desc(), Certificate.credit_code)
            .limit(1)).scalar_one()
    return f"/api/v1/certificates?credit_code={quote(code)}"


def run(count: int | None = None, seconds: float | None = None, folder: Path | None = None) -> dict:
    from certify import create_app
    from certify.certificates.models import Certificate
    from certify.extensions import db
    from certify.workflow import Status

    count = count or certificates_wanted()
    seconds = seconds or float(os.environ.get("BENCH_SECONDS", "8"))
    name = database_name(count)
    storage = prepare_database(count, folder, name=name,
                               shares={Status(state): share for state, share in SHARES.items()})
    url = database_url(name)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SECRET_KEY,
                      "CERTIFY_STORAGE_DIR": str(storage), "CERTIFY_BASE_URL": BASE_URL,
                      "CERTIFY_API_RATE_LIMIT": UNREACHED_LIMIT})
    path = lookup_path(app)
    with app.app_context():
        certificates = db.session.execute(select(func.count()).select_from(Certificate)).scalar_one()
    statements = page_statements(app, path)
    real, minimal = measure_ratio(url, storage, path, None, statements, seconds,
                                  settings={"CERTIFY_API_RATE_LIMIT": UNREACHED_LIMIT})
    environment = os.environ | {"DATABASE_URL": url, "SECRET_KEY": SECRET_KEY, "CERTIFY_STORAGE_DIR": str(storage),
                                "CERTIFY_BASE_URL": BASE_URL, "CERTIFY_PROXY_FIX": "1"}
    with served("wsgi:app", environment, workers=2) as port:
        response_times(port, path, None, 2)  # warm-up
        latency = percentiles(response_times(port, path, None,
                                             seconds or float(os.environ.get("BENCH_LATENCY_SECONDS", "10"))))
    return {
        "api_lookup_ratio": round(real / minimal, 2),
        "api_lookup_rps": round(real, 1),
        "api_lookup_minimal_rps": round(minimal, 1),
        "api_lookup_latency_ms": latency,
        "api_certificates": certificates,
        "api_lookup_statements": len(statements),
    }
