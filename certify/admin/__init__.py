"""The admin console (``/admin/``): users, staff accounts, the mail log."""

from flask import Blueprint

bp = Blueprint("admin", __name__)

from certify.admin import views  # noqa: E402,F401
