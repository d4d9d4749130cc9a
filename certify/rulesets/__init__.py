"""Rule sets inside the Flask application: the registry read at start-up and ``flask criteria``.

``init_app(app)`` reads ``CRITERIA_DIR`` (every rule file in it) and ``CRITERIA_THRESHOLDS`` (rule-set
id -> threshold, as provinces set their own), keeps the registry in
``app.extensions["certify.rulesets"]`` and registers the ``criteria`` command group. Problems in
the files are logged at start-up and block opening new applications (``Registry.in_force``); with
``CRITERIA_STRICT`` set they stop the application from starting instead.
"""

from __future__ import annotations

from flask import Flask, current_app

from certify.rulesets.registry import Registry, RuleSetUnavailable
from certify.scoring import RuleFileError

EXTENSION = "certify.rulesets"

__all__ = ["EXTENSION", "Registry", "RuleSetUnavailable", "current_registry", "init_app"]


def init_app(app: Flask) -> None:
    """Load the rule files and register ``flask criteria``."""
    from certify.rulesets.cli import criteria_cli

    registry = Registry.from_directory(app.config["CRITERIA_DIR"], app.config.get("CRITERIA_THRESHOLDS") or {})
    if registry.problems:
        if app.config.get("CRITERIA_STRICT"):
            raise RuleFileError(list(registry.problems))
        app.logger.error(
            "rule files refused; new applications cannot be opened until they are fixed:\n%s",
            "\n".join(map(str, registry.problems)),
        )
    app.extensions[EXTENSION] = registry
    app.cli.add_command(criteria_cli)
    from certify.rulesets.forms import threshold_source

    app.jinja_env.globals["threshold_source"] = threshold_source


def current_registry() -> Registry:
    """The registry of the current application."""
    return current_app.extensions[EXTENSION]
