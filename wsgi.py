"""WSGI entry point: ``gunicorn wsgi:app``."""

from certify import create_app

app = create_app()
