"""Who may file, read and review self-declarations, and open a re-evaluation. Views check these
for every object they touch; templates use them to show only what the user may do."""

from certify.applications.permissions import is_own_application
from certify.auth.models import Role
from certify.pilots.models import PILOT_KINDS
from certify.workflow import RENEWABLE, Status

# Listings that owe no self-declaration: a zero-carbon construction pilot reports its progress
# yearly instead (certify.pilots), and the follow-up of a recognised zero-carbon unit is not
# published yet (docs/tiers.md, provisional).
DECLARATION_FREE_KINDS = PILOT_KINDS


def owes_declarations(kind) -> bool:
    """Whether a listing of ``kind`` declares its key metrics each period."""
    return str(kind) not in DECLARATION_FREE_KINDS


def can_file_declaration(user, application) -> bool:
    return (is_own_application(user, application) and application.status == Status.LISTED
            and owes_declarations(application.kind))


def can_view_declaration(user, declaration) -> bool:
    if not user.is_authenticated:
        return False
    if user.role == Role.ADMIN:
        return True
    return user.role == Role.APPLICANT and declaration.organisation_id == user.organisation_id


def can_review_declaration(user, declaration) -> bool:
    from certify.management.models import DeclarationStatus

    return (user is not None and user.is_authenticated and user.role == Role.ADMIN
            and declaration.status == DeclarationStatus.SUBMITTED)


def can_open_re_evaluation(user, application) -> bool:
    """A listing renewed by a re-evaluation under today's rules; a construction pilot and the
    recognition that follows it are not (what follows a recognised zero-carbon unit is not
    published yet, docs/tiers.md)."""
    return (is_own_application(user, application)
            and application.status in RENEWABLE and owes_declarations(application.kind))
