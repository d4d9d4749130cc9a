"""The one job interface: work that must happen only after the current transaction commits
(sending e-mail, rendering files).

Jobs run inline by default. Job functions take plain arguments (ids, not objects) and open
their own session, so the same function can later be handed to a queue worker unchanged.
"""

from sqlalchemy import event
from sqlalchemy.orm import Session

_PENDING_KEY = "certify.after_commit"


def call_after_commit(func, *args) -> None:
    """Run ``func(*args)`` once the current transaction has committed; never if it rolls back."""
    from certify.extensions import db

    db.session.info.setdefault(_PENDING_KEY, []).append((func, args))


def run_job(func, *args) -> None:
    """Run one job now."""
    func(*args)


@event.listens_for(Session, "after_commit")
def _run_pending(session: Session) -> None:
    for func, args in session.info.pop(_PENDING_KEY, []):
        run_job(func, *args)


@event.listens_for(Session, "after_soft_rollback")
def _drop_pending(session: Session, previous_transaction) -> None:
    session.info.pop(_PENDING_KEY, None)
