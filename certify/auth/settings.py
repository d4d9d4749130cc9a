"""Account settings, from the environment unless given to ``create_app``."""

import os

from flask import Flask

# name: (environment variable, default)
SETTINGS = {
    # A self-registration not confirmed by its mailed link within this many hours is removed,
    # freeing its e-mail address and credit code.
    "CERTIFY_REGISTRATION_CONFIRM_HOURS": 48,
    # Password-reset mails one account receives in an hour at most; more requests get the same
    # answer and no mail.
    "CERTIFY_RESET_MAILS_PER_HOUR": 3,
}


def init_app(app: Flask) -> None:
    for name, default in SETTINGS.items():
        if name in app.config:
            continue
        raw = os.environ.get(name, "").strip()
        try:
            value = int(raw) if raw else default
        except ValueError as exc:
            raise ValueError(f"{name} must be a whole number, not {raw!r}") from exc
        if value < 1:
            raise ValueError(f"{name} must be at least 1, not {value}")
        app.config[name] = value
