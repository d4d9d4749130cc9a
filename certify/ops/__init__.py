"""Operations commands for the people who run certify: ``flask audit verify``,
``flask backup create|restore``, ``flask storage migrate|verify`` and ``flask doctor``.

``init_app(app)`` registers them on the application's command line.
"""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the ``audit``, ``backup`` and ``storage`` command groups and the ``doctor`` command."""
    from certify.ops.audit_cli import audit_cli
    from certify.ops.backup import backup_cli
    from certify.ops.doctor import doctor_command
    from certify.ops.storage_cli import storage_cli

    app.cli.add_command(audit_cli)
    app.cli.add_command(backup_cli)
    app.cli.add_command(doctor_command)
    app.cli.add_command(storage_cli)
