"""The application factory, error pages and the health check."""

import pytest

from certify import ConfigurationError, create_app


@pytest.mark.parametrize("key", [None, "", "dev", "changeme", "short"])
def test_outside_debug_and_testing_the_app_refuses_a_missing_or_weak_secret_key(monkeypatch, tmp_path, key):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    config = {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.sqlite3'}", "SECRET_KEY": key}
    with pytest.raises(ConfigurationError, match="SECRET_KEY"):
        create_app(config)


def test_a_real_secret_key_starts_the_app(tmp_path):
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.sqlite3'}",
                      "SECRET_KEY": "f3c1f0f1d8a04e2b9a7c33e9a1d0b6c2"})
    assert app.config["SECRET_KEY"].startswith("f3c1")


def test_database_urls_name_the_psycopg_driver(tmp_path):
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "postgresql://u@127.0.0.1/db"})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@127.0.0.1/db"


def test_health_reports_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok"}


def test_health_reports_an_unreachable_database_with_503(tmp_path):
    app = create_app({"TESTING": True,
                      "SQLALCHEMY_DATABASE_URI": "postgresql://nobody@127.0.0.1:1/none",
                      "SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"connect_timeout": 2}}})
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["status"] == "error"
    assert response.json == {"status": "error", "database": "unreachable"}
    # Nothing of the deployment (the database's host and port) is told to whoever asks.
    assert "127.0.0.1" not in response.get_data(as_text=True)


def test_an_unexpected_error_shows_a_page_not_a_traceback(make_app, db):
    app = make_app()

    @app.get("/_test/boom")
    def boom():
        raise RuntimeError("secret internals")

    response = app.test_client().get("/_test/boom", headers={"Accept-Language": "en"})
    page = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Something went wrong" in page
    assert "secret internals" not in page and "Traceback" not in page


def test_an_oversized_request_gets_the_413_page(app, client):
    limit = app.config["MAX_CONTENT_LENGTH"]
    response = client.post("/login", data={"email": "x" * (limit + 10)},
                           headers={"Accept-Language": "en"})
    assert response.status_code == 413
    assert "File too large" in response.get_data(as_text=True)
