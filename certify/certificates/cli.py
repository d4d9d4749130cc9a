"""``flask certificates expire|render|sweep|verify-json`` and ``flask keys init|rotate``."""

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from certify.extensions import db

certificates_cli = AppGroup("certificates", help="Certificates: expiry, rendering and checking.")
keys_cli = AppGroup("keys", help="Keys that sign certificate PDFs.")


@certificates_cli.command("expire")
def expire() -> None:
    """Record the expiry of every certificate past its last valid day (run daily)."""
    from certify.certificates.services import expire_due_certificates

    if not current_app.config.get("CERTIFY_BASE_URL"):
        raise click.ClickException("Set CERTIFY_BASE_URL first: the e-mails to the holders "
                                   "link to their applications.")
    expired = expire_due_certificates()
    db.session.commit()
    click.echo(f"{len(expired)} certificate(s) expired.")
    for certificate in expired:
        click.echo(f"  {certificate.number} (valid until {certificate.valid_until.isoformat()})")


@certificates_cli.command("render")
def render() -> None:
    """Render the PDF of every certificate still pending or failed (e.g. after setting
    CERTIFY_BASE_URL)."""
    from certify.certificates.models import Certificate, RenderState
    from certify.certificates.services import render_certificate, unrendered_certificate_ids

    ids = unrendered_certificate_ids()
    for certificate_id in ids:
        # Here and now, whatever REDIS_URL says: the operator waits for the outcome.
        with current_app.app_context():
            render_certificate(certificate_id)
    db.session.expire_all()
    failed = [db.session.get(Certificate, i) for i in ids]
    failed = [c for c in failed if c.render_state != RenderState.RENDERED]
    click.echo(f"{len(ids) - len(failed)} of {len(ids)} certificate(s) rendered.")
    for certificate in failed:
        click.echo(f"  {certificate.number}: {certificate.render_error}", err=True)
    if failed:
        raise SystemExit(1)


@certificates_cli.command("sweep")
@click.option("--after", "minutes", type=click.IntRange(min=0), default=None,
              help="Queue again what has waited this many minutes "
                   "(default: CERTIFY_RENDER_SWEEP_MINUTES, 15).")
def sweep(minutes: int | None) -> None:
    """Queue again every certificate PDF still pending (or failed, with attempts left) long
    after it was queued: its rendering was lost (a process or worker killed). Safe to run
    often, e.g. every 10 minutes from cron."""
    from datetime import timedelta

    from certify.certificates.services import MAX_SWEEPS, sweep_minutes, sweep_unrendered

    after = timedelta(minutes=sweep_minutes() if minutes is None else minutes)
    result = sweep_unrendered(after=after)
    db.session.commit()  # without REDIS_URL the PDFs are made here, now
    click.echo(f"{len(result.requeued)} certificate PDF(s) waiting longer than "
               f"{int(after.total_seconds() // 60)} minute(s) queued again.")
    for number in result.requeued:
        click.echo(f"  {number}")
    if result.requeued and not current_app.config.get("REDIS_URL"):
        from sqlalchemy import func, select

        from certify.certificates.models import Certificate, RenderState

        made = db.session.execute(
            select(func.count()).where(Certificate.number.in_(result.requeued),
                                       Certificate.render_state == RenderState.RENDERED)).scalar_one()
        click.echo(f"{made} of {len(result.requeued)} rendered now.")
    if result.given_up:
        click.echo(f"{len(result.given_up)} certificate PDF(s) marked failed after "
                   f"{MAX_SWEEPS + 1} attempts (render them again once the cause is fixed):", err=True)
        for number in result.given_up:
            click.echo(f"  {number}", err=True)
        raise SystemExit(1)


# A status list of a province's certificates is a few megabytes at most.
MAX_STATUS_LIST_BYTES = 32 * 1024 * 1024
STATUS_LIST_TIMEOUT = 20


def _read_status_list(source: str) -> bytes:
    """The bytes of the status list at ``source``: an http(s) address, fetched once, or a file."""
    import urllib.error
    import urllib.request

    if not source.lower().startswith(("http://", "https://")):
        try:
            return Path(source).read_bytes()
        except OSError as error:
            raise click.ClickException(f"The status list {source} cannot be read: {error.strerror}.") from error
    try:
        with urllib.request.urlopen(source, timeout=STATUS_LIST_TIMEOUT) as response:  # noqa: S310 - http(s) only
            return response.read(MAX_STATUS_LIST_BYTES + 1)
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", None) or error
        raise click.ClickException(f"The status list could not be fetched from {source}: {reason}.") from error


def _trust_roots(extra: tuple[Path, ...]) -> list:
    """The configured trust roots (the signing certificate and the trust-roots folder, as for the
    PDF's signature) and the certificates of the files given."""
    from pyhanko.keys import load_certs_from_pemder_data

    from certify.certificates.signing import signer_trust_roots

    roots = signer_trust_roots()
    for path in extra:
        try:
            found = list(load_certs_from_pemder_data(path.read_bytes()))
        except (OSError, ValueError) as error:
            raise click.ClickException(f"{path} is not a certificate file (PEM or DER): {error}") from error
        if not found:
            raise click.ClickException(f"{path} holds no certificate.")
        roots.extend(found)
    return roots


def _echo_fields(fields: dict) -> None:
    """The certificate's facts as the credential states them."""
    standard = fields.get("standard") or {}
    organisation = fields.get("organisation") or {}
    kind = fields.get("kind") or {}
    title = (kind.get("title") or {}).get("en") or kind.get("key")
    for label, value in (
            ("Number", fields.get("number")), ("Kind", f"{title} ({kind.get('code') or kind.get('key')})"),
            ("Organisation", organisation.get("name")), ("Credit code", organisation.get("credit_code")),
            ("Subject", fields.get("subject")), ("Standard", standard.get("code")),
            ("Valid", f"{fields.get('valid_from')} to {fields.get('valid_until')}"),
            ("Issued at", fields.get("issued_at")),
            ("Status when signed", f"{fields.get('status')} (signed {fields.get('signed_at')})"),
            ("PDF SHA-256", (fields.get("pdf") or {}).get("sha256")),
            ("Verification page", fields.get("verification_url"))):
        click.echo(f"  {label + ':':<20}{value}")


@certificates_cli.command("verify-json")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--status-list", "status_list", metavar="FILE_OR_URL",
              help="The department's status list (a saved file, or its address, fetched once): "
                   "a revoked or expired certificate then fails.")
@click.option("--trust-root", "trust_root", multiple=True, type=click.Path(dir_okay=False, path_type=Path),
              metavar="PEM", help="A certificate to trust besides the configured ones, e.g. the "
                                  "department's published signing certificate (repeatable).")
def verify_json(file: Path, status_list: str | None, trust_root: tuple[Path, ...]) -> None:
    """Check a machine-readable certificate (the signed JSON beside a certificate PDF) offline:
    its signature, that the signing key chains to a trust root, its dates and, with
    --status-list, that it is not revoked or expired. Prints VALID or INVALID with the reason;
    the exit code is 0 only when valid."""
    from certify.certificates.credentials import verify_credential

    try:
        data = file.read_bytes()
    except OSError as error:
        raise click.ClickException(f"{file} cannot be read: {error.strerror}.") from error
    roots = _trust_roots(trust_root)
    if not roots:
        raise click.ClickException(
            "No trust root to check against: this installation has no signing certificate "
            "(CERTIFY_SIGNING_CERT) and nothing in its trust-roots folder (CERTIFY_TRUST_ROOTS). "
            "Give the department's published signing certificate with --trust-root PEM.")
    listed = _read_status_list(status_list) if status_list else None
    check = verify_credential(data, trust_roots=roots, status_list=listed)
    if check.fields is not None:
        click.echo(f"Certificate {check.fields.get('number')}")
        _echo_fields(check.fields)
    if check.signer:
        click.echo(f"  {'Signed by:':<20}{check.signer}" + (f" ({check.fingerprint})" if check.fingerprint else ""))
    if check.status_list is not None:
        click.echo(f"  {'Status list:':<20}issued {check.status_list.get('issued_at')}, "
                   f"next update {check.status_list.get('next_update')}")
    if check.is_valid:
        click.echo(f"VALID: {check.reason}.")
        return
    click.echo(f"INVALID ({check.state.value}): {check.reason}.")
    raise SystemExit(1)


@keys_cli.command("init")
@click.option("--folder", type=click.Path(file_okay=False, path_type=Path),
              help="Where to write the pair (default: instance/keys).")
@click.option("--days", default=3650, show_default=True, help="Validity of the certificate.")
@click.option("--force", is_flag=True, help="Replace an existing pair (earlier signatures "
              "then no longer validate; flask keys rotate keeps them valid).")
def keys_init(folder: Path | None, days: int, force: bool) -> None:
    """Make a self-signed development key and certificate for signing certificate PDFs.
    The key is encrypted when CERTIFY_SIGNING_KEY_PASSPHRASE is set."""
    from certify.certificates.signing import create_development_key

    folder = (folder or Path(current_app.instance_path) / "keys").resolve()
    passphrase = current_app.config.get("CERTIFY_SIGNING_KEY_PASSPHRASE")
    try:
        key_path, cert_path = create_development_key(
            folder, days=days, passphrase=passphrase.encode("utf-8") if passphrase else None,
            overwrite=force)
    except FileExistsError as error:
        raise click.ClickException(f"{error}; use --force to replace it.") from error
    click.echo("Development signing key made (not for production). Add to the environment:")
    click.echo(f"  export CERTIFY_SIGNING_KEY={key_path}")
    click.echo(f"  export CERTIFY_SIGNING_CERT={cert_path}")


@keys_cli.command("rotate")
@click.option("--key", "key_path", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="The new private key (PEM), e.g. the department's production key.")
@click.option("--cert", "cert_path", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="The new key's certificate (PEM).")
@click.option("--folder", type=click.Path(file_okay=False, path_type=Path),
              help="Without --key/--cert: where the new development pair is written, replacing "
              "the pair there (default: instance/keys).")
@click.option("--days", default=3650, show_default=True,
              help="Validity of a new development certificate.")
def keys_rotate(key_path: Path | None, cert_path: Path | None, folder: Path | None,
                days: int) -> None:
    """Replace the signing key. The current certificate is kept as a trust root first, so that
    certificates signed before still verify; the new pair is --key/--cert, or else a new
    development pair."""
    from certify.certificates.services import rotate_signing_key
    from certify.certificates.signing import trust_roots_folder
    from certify.exceptions import ServiceError

    if (key_path is None) != (cert_path is None):
        raise click.UsageError("Give both --key and --cert, or neither.")
    folder = (folder or Path(current_app.instance_path) / "keys").resolve()
    current = current_app.config.get("CERTIFY_SIGNING_CERT")
    current = Path(current) if current else folder / "signing-cert.pem"
    if not current.is_file():
        raise click.ClickException(f"No signing certificate to rotate ({current} does not exist); "
                                   "flask keys init makes a first pair.")
    passphrase = current_app.config.get("CERTIFY_SIGNING_KEY_PASSPHRASE")
    try:
        rotation = rotate_signing_key(
            current, folder=folder, trust_roots=trust_roots_folder().resolve(),
            key_path=key_path.resolve() if key_path else None,
            cert_path=cert_path.resolve() if cert_path else None, days=days,
            passphrase=passphrase.encode("utf-8") if passphrase else None)
        db.session.commit()
    except ServiceError as error:
        db.session.rollback()
        raise click.ClickException(str(error.message)) from error
    click.echo(f"The previous certificate is kept as a trust root: {rotation.kept_path}")
    click.echo("Certificates signed with it still verify. Sign with the new pair from now on:")
    click.echo(f"  export CERTIFY_SIGNING_KEY={rotation.key_path}")
    click.echo(f"  export CERTIFY_SIGNING_CERT={rotation.cert_path}")
    click.echo(f"  export CERTIFY_TRUST_ROOTS={rotation.kept_path.parent}")
    click.echo("then restart the web processes and workers.")
