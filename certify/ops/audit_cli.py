"""``flask audit verify`` and ``flask audit anchor``: check the audit log, and keep its newest
event outside the database.

``verify`` walks the hash chain and reports every row where it breaks: editing a row breaks it at
that row (its HMAC no longer checks with the audit key), deleting a row at the row after (whose
recorded previous hash no longer matches), inserting a row at the inserted row. Deleting or
rewriting the *newest* rows leaves no break behind, because nothing follows them: the anchor file
(``flask audit anchor``, written daily by ``flask reminders send``) is therefore checked too, and
``--anchor`` takes a hash kept anywhere else. Last, every certificate's PDF is checked against its
``certificate.rendered`` event and the bytes in storage.
"""

import click
from flask.cli import AppGroup
from sqlalchemy import select

from certify.audit.anchors import anchor_path, check_anchors, record_anchor, write_anchor
from certify.audit.keys import AuditKeyError
from certify.audit.models import AuditEvent
from certify.audit.services import walk_chain
from certify.certificates.services import certificate_file_problems
from certify.extensions import db

audit_cli = AppGroup("audit", help="The tamper-evident audit log.")


@audit_cli.command("verify")
@click.option("--batch-size", default=1000, show_default=True, type=click.IntRange(min=1),
              help="Events read per query; memory stays flat however long the log is.")
@click.option("--anchor", metavar="HASH",
              help="A hash printed by an earlier run; the check fails if it is no longer in the "
                   "log (the newest events were deleted or rewritten).")
def audit_verify(batch_size: int, anchor: str | None) -> None:
    """Check every audit event against the one before it and against the anchor file, and every
    certificate's PDF against its record; exit 1 if anything disagrees."""
    walk = walk_chain(batch_size=batch_size)
    for chain_break in walk.breaks:
        click.echo(f"BROKEN at event {chain_break.event_id}: {chain_break.reason}")
    anchors = check_anchors()
    for problem in anchors.problems:
        click.echo(f"BROKEN: {problem.reason} (anchor file {anchors.path})")
    for number in anchors.unreadable_lines:
        click.echo(f"BROKEN: line {number} of the anchor file {anchors.path} is not an anchor "
                   "(the file was edited)")
    anchor_lost = anchor is not None and _anchor_missing(anchor.strip().lower())
    if anchor_lost:
        click.echo(f"BROKEN: the anchor {anchor} is no longer in the log: events at or after "
                   "it were deleted or rewritten")
    certificates, file_problems = certificate_file_problems()
    for problem in file_problems:
        click.echo(f"BROKEN: certificate {problem.number}: {problem.reason}")

    key = f"with audit key {walk.key.id}" if walk.key else "no audit key yet"
    click.echo(f"{walk.keyed} of {walk.checked} events checked {key} "
               f"({walk.checked - walk.keyed} written before the key, plain SHA-256).")
    newest_anchor = (f", the newest at event {anchors.newest.event_id} ({anchors.newest.at})"
                     if anchors.newest else "")
    click.echo(f"{anchors.checked} anchor(s) of this log in {anchors.path}{newest_anchor}"
               + (f"; {anchors.other_logs} taken from another database's log, not checked"
                  if anchors.other_logs else "") + ".")
    click.echo(f"{certificates} certificate(s) checked against their recorded PDF and the "
               f"stored bytes: {len(file_problems)} disagree.")
    if walk.newest is not None:
        click.echo(f"Newest event {walk.newest[0]}, hash {walk.newest[1]}.")
    problems = (len(walk.breaks) + len(anchors.problems) + len(anchors.unreadable_lines)
                + anchor_lost + len(file_problems))
    if problems:
        first = f"; the first broken row is event {walk.breaks[0].event_id}" if walk.breaks else ""
        click.echo(f"Checked {walk.checked} audit events: the chain is BROKEN ({problems} "
                   f"problem(s){first}).")
        raise SystemExit(1)
    click.echo(f"Checked {walk.checked} audit events: the chain is intact.")


@audit_cli.command("anchor")
def audit_anchor() -> None:
    """Write the log's newest event to the anchor file (done daily by flask reminders send)."""
    try:
        event = record_anchor()
        db.session.commit()
    except AuditKeyError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from error
    anchor = write_anchor(event)
    click.echo(f"Anchored event {anchor.event_id}, hash {anchor.hash}, in {anchor_path()}.")


def _anchor_missing(anchor: str) -> bool:
    found = db.session.execute(
        select(AuditEvent.id).where(AuditEvent.hash == anchor).limit(1)).scalar_one_or_none()
    return found is None
