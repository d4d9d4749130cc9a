"""``flask storage migrate --to s3://bucket/prefix`` and ``flask storage verify``.

``migrate`` copies the local storage folder (``CERTIFY_STORAGE_DIR``) into an S3-compatible bucket
and checks every copy by its sha256 (see ``certify.storage.migrate``); the bucket's endpoint, region
and credentials are the usual AWS variables. It can be run again at any time: what is already
there is only checked. ``verify`` reads every file of the application's storage, folder or
bucket, and checks that it hashes to its name (``flask doctor`` checks a sample of a large store).
"""

import click
from flask import current_app
from flask.cli import AppGroup

from certify.storage import LocalStorage, local_root, parse_storage_url, sha256_of_stored, storage

storage_cli = AppGroup("storage", help="Copy the stored files into object storage, and check them.")


@storage_cli.command("migrate")
@click.option("--to", "url", required=True, metavar="s3://BUCKET/PREFIX",
              help="The bucket (and key prefix) to copy the files into.")
def migrate_command(url: str) -> None:
    """Copy every file of the storage folder into the bucket at s3://BUCKET/PREFIX, checking
    each copy by its sha256; then set CERTIFY_STORAGE_URL to the same address.

    The web and worker processes may keep running: run the command again right before they are
    restarted with CERTIFY_STORAGE_URL, to copy the files stored in between.
    """
    from certify.storage.migrate import migrate
    from certify.storage.s3 import S3Storage

    try:
        parse_storage_url(url)
    except ValueError as error:
        raise click.ClickException(f"{error}: give --to s3://bucket/prefix") from error
    source = LocalStorage(local_root(current_app))
    target = S3Storage.from_url(url)
    problem = target.access_problem()
    if problem:
        raise click.ClickException(f"{problem}. Check the bucket and the AWS_* variables (endpoint, "
                                   "region, credentials).")
    click.echo(f"Copying {source.describe()} into {target.describe()} …")
    report = migrate(source, target, progress=_every_thousand)
    click.echo(f"{report.total} files in {source.root}: {report.copied} copied ({report.copied_bytes} bytes), "
               f"{report.already_there} already there; {report.verified} verified by sha256 in the bucket.")
    if report.replaced:
        click.echo(f"Replaced {len(report.replaced)} damaged object(s) in the bucket from the folder: "
                   f"{_digests(report.replaced)}")
    if report.damaged_here:
        click.echo(f"PROBLEM: {len(report.damaged_here)} file(s) of the folder do not hash to their names, "
                   f"not copied: {_digests(report.damaged_here)} (restore them from a backup)")
    if report.damaged_there:
        click.echo(f"PROBLEM: {len(report.damaged_there)} object(s) read back from the bucket do not hash "
                   f"to their names: {_digests(report.damaged_there)}")
    if not report.succeeded:
        raise SystemExit(1)
    click.echo(f"Every file is in the bucket. Next: set CERTIFY_STORAGE_URL={url} and restart the web "
               "and worker processes (keep the folder until `flask doctor` passes).")


@storage_cli.command("verify")
def verify_command() -> None:
    """Read every stored file and check that its bytes hash to its name; exit 1 if any does not."""
    store = storage()
    checked, damaged = 0, []
    for item in store.stored_files():
        try:
            if sha256_of_stored(store, item.sha256) != item.sha256:
                damaged.append(item.sha256)
        except FileNotFoundError:  # deleted since it was listed
            continue
        except Exception:  # noqa: BLE001 - a read the store's own checksum refuses is damage too
            damaged.append(item.sha256)
        checked += 1
    click.echo(f"{checked} stored files checked in {store.describe()}: {checked - len(damaged)} hash to "
               f"their names.")
    if damaged:
        click.echo(f"PROBLEM: {len(damaged)} do not: {_digests(damaged)} (restore them from a backup)")
        raise SystemExit(1)


def _digests(digests: list[str], shown: int = 10) -> str:
    more = f" and {len(digests) - shown} more" if len(digests) > shown else ""
    return ", ".join(digests[:shown]) + more


def _every_thousand(report) -> None:
    done = report.total
    if done and done % 1000 == 0:
        click.echo(f"  {done} files …")
