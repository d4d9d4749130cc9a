"""Pages that belong to no single area: the home page, the language switcher, health."""

from flask import Blueprint

bp = Blueprint("core", __name__)

from certify.core import views  # noqa: E402,F401
