"""The workbench (工作台): where each signed-in person lands — what is theirs to do, and by when —
and the step bar that shows where an application stands."""

from flask_babel import lazy_gettext as _l

from certify.workflow import Status

# The steps of an application as its applicant follows them, each with the statuses it covers.
STEPS = (
    (_l("Self-assessment"), (Status.DRAFT,)),
    (_l("Assessment"), (Status.SUBMITTED, Status.ASSIGNED, Status.UNDER_ASSESSMENT)),
    (_l("Decision"), (Status.ASSESSED,)),
    (_l("Public notice"), (Status.APPROVED, Status.IN_NOTICE)),
    (_l("Listed"), (Status.LISTED,)),
)


def step_bar(status) -> list[tuple[str, str]] | None:
    """Each step's label and state (done, current, to do) for an application in ``status``; None
    once it ended off the bar (rejected, withdrawn, revoked, expired: its status says so)."""
    current = next((n for n, (_label, statuses) in enumerate(STEPS) if status in statuses), None)
    if current is None:
        return None
    if status == Status.LISTED:
        current += 1  # the last step reached: every step done
    return [(label, "done" if n < current else "current" if n == current else "todo")
            for n, (label, _statuses) in enumerate(STEPS)]
