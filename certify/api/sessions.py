"""The API keeps no session: under its prefix the session cookie is neither read (a call is
never taken as a signed-in user's, so a browser's cookie cannot make a cross-site call act as
that user) nor written (no response of the API sets a cookie)."""

from flask import Flask, request
from flask.sessions import SecureCookieSessionInterface


class ApiStatelessSessionInterface(SecureCookieSessionInterface):
    """The application's cookie session everywhere but under ``prefix``."""

    def __init__(self, prefix: str):
        self.prefix = prefix.rstrip("/") + "/"

    def _is_api(self, path: str) -> bool:
        return (path + "/").startswith(self.prefix)

    def open_session(self, app, request_):
        if self._is_api(request_.path):
            return self.session_class()
        return super().open_session(app, request_)

    def save_session(self, app, session, response) -> None:
        if self._is_api(request.path):
            return
        super().save_session(app, session, response)


def init_app(app: Flask, prefix: str) -> None:
    app.session_interface = ApiStatelessSessionInterface(prefix)
