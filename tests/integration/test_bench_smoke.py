"""The benchmark modules work end to end on a small scale (``make bench`` runs them at full size)."""

import pytest

from bench import certificates, lists
from certify import create_app


def test_the_list_benchmark_builds_its_database_and_counts_statements_per_page(tmp_path):
    url, storage = lists.prepare_database(60, tmp_path, echo=lambda *_: None)
    app = create_app(lists.bench_config(url, storage) | {"WTF_CSRF_ENABLED": False})
    counts = lists.queries_per_page(app, sizes=(10, 40))
    assert set(counts) == {"10", "40"} and len(set(counts.values())) == 1
    cookie = lists.admin_session_cookie(app)
    assert len(set(lists.admin_queries_per_page(app, cookie, sizes=(10, 40)).values())) == 1
    assert lists.page_statements(app, lists.ADMIN_PAGE, cookie)


def test_the_certificate_benchmark_reports_a_ratio():
    measured = certificates.run(repeats=2)
    assert measured["certificate_render_ratio"] > 0 and measured["certificate_pdf_kb"] > 1


def test_the_latency_benchmark_reports_percentiles_of_each_page_on_postgresql(database_url, tmp_path, monkeypatch):
    from sqlalchemy import make_url

    from bench import latency

    if make_url(database_url).get_backend_name() != "postgresql":
        pytest.skip("measured on PostgreSQL (TEST_DATABASE_URL)")
    monkeypatch.setenv("BENCH_POSTGRES_URL", make_url(database_url).set(database="postgres").render_as_string(
        hide_password=False))
    measured = latency.run(count=24, seconds=1, folder=tmp_path)
    assert set(measured["latency_ms"]) == {"public_list", "workbench", "verify"}
    for page in measured["latency_ms"].values():
        assert 0 < page["p50"] <= page["p95"] <= page["p99"] and page["requests"] > 10
