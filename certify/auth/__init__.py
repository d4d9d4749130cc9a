"""Accounts: login, logout, registration, passwords and colleagues."""

from flask import Blueprint

bp = Blueprint("auth", __name__)

from certify.auth import views  # noqa: E402,F401
