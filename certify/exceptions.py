"""Errors that service functions raise for the user to read."""


class ServiceError(Exception):
    """A request that the rules refuse; ``message`` is shown to the user as it is
    (a lazy translated string, so it appears in the user's language)."""

    def __init__(self, message, *, field: str | None = None):
        super().__init__(str(message))
        self.message = message
        self.field = field


class PermissionDenied(Exception):
    """The acting user may not do this to this object. Not a ``ServiceError``: views do not
    show it as a form message; it reaches the error handler and becomes a 403 page."""

    def __init__(self, message=None):
        super().__init__(str(message or "permission denied"))
        self.message = message
