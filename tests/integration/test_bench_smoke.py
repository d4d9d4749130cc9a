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


def test_the_storage_benchmark_serves_the_same_file_from_a_bucket_and_from_the_folder(tmp_path):
    from bench import storage

    measured = storage.run(seconds=1, folder=tmp_path)
    assert measured["storage_s3_ratio"] > 0
    assert measured["storage_s3_rps"] > 0 and measured["storage_local_rps"] > 0


def test_the_certificate_benchmark_reports_a_ratio():
    measured = certificates.run(repeats=2)
    assert measured["certificate_render_ratio"] > 0 and measured["certificate_pdf_kb"] > 1


@pytest.fixture()
def bench_postgres(database_url, monkeypatch):
    """The PostgreSQL server of ``TEST_DATABASE_URL`` for the benchmarks' own databases."""
    from sqlalchemy import make_url

    if make_url(database_url).get_backend_name() != "postgresql":
        pytest.skip("measured on PostgreSQL (TEST_DATABASE_URL)")
    monkeypatch.setenv("BENCH_POSTGRES_URL", make_url(database_url).set(database="postgres").render_as_string(
        hide_password=False))


def test_the_latency_benchmark_reports_percentiles_of_each_page_on_postgresql(bench_postgres, tmp_path):
    from bench import latency

    measured = latency.run(count=24, seconds=1, folder=tmp_path)
    assert set(measured["latency_ms"]) == {"public_list", "workbench", "verify"}
    for page in measured["latency_ms"].values():
        assert 0 < page["p50"] <= page["p95"] <= page["p99"] and page["requests"] > 10


def test_the_api_benchmark_compares_the_lookup_with_its_reference_on_postgresql(bench_postgres, tmp_path):
    from bench import api

    measured = api.run(count=30, seconds=1, folder=tmp_path)
    assert measured["api_certificates"] >= 30 and measured["api_lookup_statements"] >= 1
    assert measured["api_lookup_ratio"] > 0 and measured["api_lookup_minimal_rps"] > 0
    latency = measured["api_lookup_latency_ms"]
    assert 0 < latency["p50"] <= latency["p95"] <= latency["p99"] and latency["requests"] > 10
