"""Certificates: numbering, the PDF (rendered by a job, signed when a key is configured), the
signed machine-readable certificate and status list (``credentials``), public verification,
revocation and expiry.

``init_app(app)`` offers templates the application's certificate and registers the
``flask certificates`` and ``flask keys`` commands.

Settings: ``CERTIFY_CERTIFICATE_PREFIX`` (default ``SC``), ``CERTIFY_CERTIFICATE_VALIDITY_YEARS``
(default 3), ``CERTIFY_SIGNING_KEY`` / ``CERTIFY_SIGNING_CERT`` (PEM paths) and
``CERTIFY_SIGNING_KEY_PASSPHRASE``; the trust roots of earlier keys, the timestamp authority and
its roots (``CERTIFY_TRUST_ROOTS``, ``CERTIFY_TSA_URL``, ``CERTIFY_TSA_TRUST_ROOTS``: see
``signing.py``); rendering needs ``CERTIFY_BASE_URL`` for the QR code. They are read and checked
with the others (``certify.config.Settings``).
"""

from flask import Flask

from certify.core.hooks import register_template_hook


def _certificate_part(application) -> dict | None:
    """The application page's certificate block: the certificate and how the public sees it."""
    from certify.certificates.views import application_certificate, certificate_public_status

    certificate = application_certificate(application)
    if certificate is None:
        return None
    return {"certificate": certificate, "public_status": certificate_public_status(certificate)}


def init_app(app: Flask) -> None:
    from certify.certificates.cli import certificates_cli, keys_cli
    from certify.certificates.models import REASON_TEXTS, RENDER_STATE_TEXTS, STATUS_TEXTS, public_status
    from certify.certificates.signing import signing_configured
    app.jinja_env.globals.update(
        certificate_status_texts=STATUS_TEXTS, revocation_reason_texts=REASON_TEXTS,
        render_state_texts=RENDER_STATE_TEXTS, certificate_status_on=public_status,
        # Whether pages offer the signed JSON beside the PDF (it needs the signing key).
        credentials_offered=signing_configured)
    register_template_hook(app, "application-top", "certificates/_application.html",
                           context=_certificate_part, order=10)
    from certify.certificates.rendering import warm_up
    from certify.signals import connect_once, worker_starting

    connect_once(worker_starting, warm_up)
    app.cli.add_command(certificates_cli)
    app.cli.add_command(keys_cli)
