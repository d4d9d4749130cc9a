"""Who may import candidates; used by the service, the views and the templates alike."""

from certify.auth.models import Role


def can_import_candidates(user) -> bool:
    """Administrators import the candidates cities collect."""
    return bool(user is not None and user.is_authenticated and user.role == Role.ADMIN)
