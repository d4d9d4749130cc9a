"""certify: green manufacturing certification workflow.

``create_app(config)`` builds the application; nothing touches the database at import time.
"""

import os
from pathlib import Path

from flask import Flask

from certify import config as settings
from certify import ratelimit
from certify.config import ConfigurationError, SettingError
from certify.core.ids import RowIdConverter
from certify.extensions import csrf, db, migrate

__all__ = ["ConfigurationError", "SettingError", "create_app"]


def instance_folder() -> str | None:
    """This host's own folder (``CERTIFY_INSTANCE_PATH``): its secret-key file, keys, prepared
    fonts and, without object storage, its stored files; the project's ``instance/`` by default.
    Read before the other settings, whose defaults lie in it."""
    configured = os.environ.get("CERTIFY_INSTANCE_PATH")
    return str(Path(configured).resolve()) if configured else None


def create_app(config: dict | None = None) -> Flask:
    """Build the application. ``config`` overrides settings from the environment."""
    app = Flask(
        __name__,
        instance_path=instance_folder(),
        instance_relative_config=True,
        template_folder=str(settings.PROJECT_ROOT / "templates"),
    )
    # ``<int:…>`` in every address: ids a row can have (a longer number matches no page).
    app.url_map.converters["int"] = RowIdConverter
    config = config or {}
    instance_path = Path(app.instance_path)
    app.config.update(settings.DEFAULTS)
    app.config.update(settings.flask_settings(instance_path))
    # The settings, typed and checked: a bad value stops the start, naming the variable.
    loaded = settings.load_settings(config, instance_path=instance_path)
    app.config.update(loaded.as_config())
    # The rest of ``config`` wins too (a setting given there has been read, and checked, above).
    app.config.update({key: value for key, value in config.items() if key not in settings.SETTING_KEYS})
    app.extensions["certify.settings"] = loaded
    app.config["SQLALCHEMY_DATABASE_URI"] = settings.database_url(app.config["SQLALCHEMY_DATABASE_URI"])
    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", settings.engine_options(app.config["SQLALCHEMY_DATABASE_URI"]))
    app.jinja_env.add_extension("jinja2.ext.do")
    _check_secret_key(app)
    instance_path.mkdir(parents=True, exist_ok=True)

    db.init_app(app)
    # Batch mode lets SQLite alter tables; compare_type makes autogenerate notice type changes.
    migrate.init_app(app, db, directory=str(settings.PROJECT_ROOT / "migrations"),
                     render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    ratelimit.init_app(app)  # counters shared by every process: Redis, else this database

    from certify import i18n, models, security  # noqa: F401  (models: every table registered)
    from certify.auth import login
    from certify.core import fragments

    login.init_app(app)
    i18n.init_app(app)
    fragments.init_app(app)
    security.init_app(app)

    from certify.admin.views import bp as admin_bp
    from certify.applications.views import bp as applications_bp
    from certify.assessment.views import bp as assessment_bp
    from certify.auth.views import bp as auth_bp
    from certify.certificates.views import bp as certificates_bp
    from certify.core.errors import register_error_handlers
    from certify.core.views import bp as core_bp
    from certify.imports.views import bp as imports_bp
    from certify.management.views import bp as management_bp
    from certify.pilots.views import bp as pilots_bp
    from certify.public.views import bp as public_bp
    from certify.publication.views import bp as publication_bp
    from certify.stats.views import bp as stats_bp
    from certify.tiers.views import bp as tiers_bp
    from certify.workbench.views import bp as workbench_bp

    app.register_blueprint(core_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(applications_bp)
    app.register_blueprint(assessment_bp)
    app.register_blueprint(certificates_bp)
    app.register_blueprint(publication_bp)
    app.register_blueprint(public_bp)
    app.register_blueprint(stats_bp)
    app.register_blueprint(management_bp)
    app.register_blueprint(pilots_bp)
    app.register_blueprint(workbench_bp)
    app.register_blueprint(tiers_bp)
    app.register_blueprint(admin_bp, url_prefix="/admin")
    app.register_blueprint(imports_bp, url_prefix="/admin")
    register_error_handlers(app)
    from certify import api

    api.init_app(app)  # the JSON API under /api/v1, and the administrators' key pages

    from certify import (
        assessment,
        certificates,
        cli,
        grades,
        mail,
        management,
        notifications,
        ops,
        pilots,
        plausibility,
        rulesets,
        tiers,
    )
    from certify.applications.kinds import KindLabels
    from certify.applications.models import reference as application_reference
    from certify.assessment import reports
    from certify.i18n import Labels, badge
    from certify.organisations.models import ORGANISATION_KIND_LABELS
    from certify.public import exports
    from certify.publication.models import BATCH_STATUS_LABELS, OBJECTION_STATUS_LABELS
    from certify.uploads import file_input_attributes, upload_limit
    from certify.workbench import step_bar
    from certify.workflow import NEXT_STEP_LABELS, STATUS_LABELS

    app.jinja_env.globals.update({name: Labels(table) for name, table in {
        "status_labels": STATUS_LABELS, "next_step_labels": NEXT_STEP_LABELS,
        "batch_status_labels": BATCH_STATUS_LABELS, "objection_status_labels": OBJECTION_STATUS_LABELS,
        "organisation_kind_labels": ORGANISATION_KIND_LABELS}.items()})
    app.jinja_env.globals["kind_labels"] = KindLabels()
    app.jinja_env.globals.update(upload_limit=upload_limit, file_input_attributes=file_input_attributes,
                                 application_steps=step_bar)
    app.jinja_env.globals["status_badge"] = badge(app.jinja_env.globals["status_labels"])
    # The same as filters, for the rows of long lists: a filter is called directly, a global
    # function through the template context.
    app.jinja_env.filters.update(status_badge=app.jinja_env.globals["status_badge"],
                                 reference=application_reference)

    cli.init_app(app)
    mail.init_app(app)
    ops.init_app(app)
    rulesets.init_app(app)
    assessment.init_app(app)
    certificates.init_app(app)
    management.init_app(app)
    plausibility.init_app(app)
    grades.init_app(app)  # cohort grades and park removal: pages, ``flask grades``, the unit's grades
    pilots.init_app(app)
    tiers.init_app(app)
    # Receivers of the signals (``certify.signals``) that other areas send.
    notifications.init_app(app)
    exports.init_app(app)
    reports.init_app(app)
    return app


def _check_secret_key(app: Flask) -> None:
    if app.debug or app.testing:
        if not app.config.get("SECRET_KEY"):
            app.config["SECRET_KEY"] = "certify-dev"  # noqa: S105 - debug and tests only; refused elsewhere
        return
    key = app.config.get("SECRET_KEY")
    if key is None or key.strip().lower() in settings.DEVELOPMENT_SECRET_KEYS or len(key) < 16:
        raise ConfigurationError(
            "certify refuses to start: SECRET_KEY is missing or is a development value. "
            "Set the SECRET_KEY environment variable to a long random value, e.g. "
            "`export SECRET_KEY=$(python -c 'import secrets; print(secrets.token_hex(32))')` "
            "(`make install` writes one to instance/secret_key for a local installation)."
        )
