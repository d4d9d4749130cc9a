"""Who may do what with accounts; used by views and templates alike."""

from functools import wraps

from flask import abort
from flask_login import current_user, login_required

from certify.auth.models import Role, User


def roles_required(*roles: Role):
    """Allow the view only to logged-in users holding one of ``roles`` (403 otherwise)."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def can_manage_users(user: User) -> bool:
    return user.is_authenticated and user.role == Role.ADMIN


def can_invite_colleagues(user: User) -> bool:
    return user.is_authenticated and user.role == Role.APPLICANT
