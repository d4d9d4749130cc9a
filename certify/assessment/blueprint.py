"""The assessment's blueprint: every page of the area (``views/``) is a route of ``bp``."""

from flask import Blueprint

bp = Blueprint("assessment", __name__)
