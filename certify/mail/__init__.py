"""Outgoing e-mail: one interface, SMTP when configured, otherwise kept in the mail log."""

from flask import Flask


def init_app(app: Flask) -> None:
    from certify.mail.cli import mail_cli

    app.cli.add_command(mail_cli)
