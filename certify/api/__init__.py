"""The public JSON API under ``/api/v1``: read-only endpoints over what the public pages show
(certificates, announced lists and batches, notices, rule sets in force, statistics), described by
an OpenAPI 3.1 document, with API keys that administrators give to banks and platforms.

``init_app(app)`` binds the OpenAPI extension (flask-smorest), registers the endpoints and the
administrators' key pages, exempts the API from CSRF (it keeps no session) and gives it a session
that is never read nor written.
"""

from flask import Flask

API_PREFIX = "/api/v1"


def init_app(app: Flask) -> None:
    from certify.api import sessions
    from certify.api.spec import ProblemApi
    from certify.api.views import keys
    from certify.api.views import public as endpoints
    from certify.extensions import csrf

    app.config.setdefault("API_TITLE", "certify")
    app.config.setdefault("API_VERSION", "1")
    app.config.setdefault("OPENAPI_VERSION", "3.1.0")
    app.config.setdefault("OPENAPI_URL_PREFIX", API_PREFIX)
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    # One extension object per application: it holds that application's document.
    api = ProblemApi(app)
    api.register_blueprint(endpoints.bp, url_prefix=API_PREFIX)
    csrf.exempt(endpoints.bp)
    app.register_blueprint(endpoints.pages)
    app.register_blueprint(keys.bp)
    sessions.init_app(app, API_PREFIX)
