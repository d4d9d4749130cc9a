"""``flask audit verify``: walk the audit log's hash chain and report every row where it breaks.

Editing a row breaks the chain at that row (its hash no longer matches its contents); deleting
a row breaks it at the row after (whose recorded previous hash no longer matches); inserting a
row breaks it at the inserted row. Deleting or rewriting the *newest* rows leaves no break
behind, because nothing follows them: the command therefore prints the newest event's hash, to
be kept elsewhere and passed back later with ``--anchor``.
"""

import click
from flask.cli import AppGroup
from sqlalchemy import select

from certify.audit.models import AuditEvent
from certify.audit.services import verify_chain
from certify.extensions import db

audit_cli = AppGroup("audit", help="The tamper-evident audit log.")


@audit_cli.command("verify")
@click.option("--batch-size", default=1000, show_default=True, type=click.IntRange(min=1),
              help="Events read per query; memory stays flat however long the log is.")
@click.option("--anchor", metavar="HASH",
              help="A hash printed by an earlier run; the check fails if it is no longer in the "
                   "log (the newest events were deleted or rewritten).")
def audit_verify(batch_size: int, anchor: str | None) -> None:
    """Check every audit event against the one before it; exit 1 if the chain is broken."""
    checked, breaks = verify_chain(batch_size=batch_size)
    for chain_break in breaks:
        click.echo(f"BROKEN at event {chain_break.event_id}: {chain_break.reason}")
    anchor_lost = anchor is not None and _anchor_missing(anchor.strip().lower())
    if anchor_lost:
        click.echo(f"BROKEN: the anchor {anchor} is no longer in the log: events at or after "
                   "it were deleted or rewritten")
    newest = db.session.execute(
        select(AuditEvent.id, AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)).first()
    if newest is not None:
        click.echo(f"Newest event {newest.id}, hash {newest.hash} (keep it elsewhere and check "
                   "later with --anchor).")
    if breaks or anchor_lost:
        first = f"; the first broken row is event {breaks[0].event_id}" if breaks else ""
        click.echo(f"Checked {checked} audit events: the chain is BROKEN ({len(breaks)} "
                   f"break(s){first}).")
        raise SystemExit(1)
    click.echo(f"Checked {checked} audit events: the chain is intact.")


def _anchor_missing(anchor: str) -> bool:
    found = db.session.execute(
        select(AuditEvent.id).where(AuditEvent.hash == anchor).limit(1)).scalar_one_or_none()
    return found is None
