"""``flask backup create`` and ``flask backup restore``: the database and the stored files in
one archive.

An archive (``certify-backup-YYYYMMDDTHHMMSSZ.tar.gz``, readable by its owner only: it holds
password hashes) contains::

    database/certify.sqlite3 | database/certify.pgdump   the database (see ``databases``)
    storage/ab/cd/abcd…                                   every stored file, as laid out in the storage
    manifest.json                                         written last, describes all of the above

The manifest names the format and its version, when the archive was made, the Alembic revision
and kind of the database (and its PostgreSQL schema), the row count of every table, and the
path, size and sha256 of the database copy and of every stored file.

The database is copied first, then the files: stored files are never changed once written, so
every file the copied database refers to is already stored and goes into the archive.

The files come from the application's storage, a local folder or an S3-compatible bucket
(``CERTIFY_STORAGE_URL``), streamed into the archive one by one; they are laid out the same way in
both, so an archive made from one restores into the other.

The audit key (``instance/audit_key``) and the anchor file are never in an archive: they are what
proves the database's audit log untouched, so whoever holds an archive must not hold them too.
They are backed up on their own (see docs/operations.md).

Restoring reads the whole archive into a staging folder and checks it against the manifest
(every file's sha256 and size, nothing missing, nothing extra, a known format, the same kind of
database, a revision this code knows) before it replaces anything. It refuses to overwrite a
database or storage that is not empty unless told ``--yes``. Afterwards the database holds the
archive's rows, the storage holds exactly the archive's files, the row counts are compared with
the manifest and the audit chain is verified.
"""

import hashlib
import io
import json
import os
import re
import shutil
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

import click
from alembic.script import ScriptDirectory
from flask import current_app
from flask.cli import AppGroup

from certify.audit.services import verify_chain
from certify.extensions import db
from certify.ops.databases import (
    DatabaseCopyError,
    copy_database,
    database_kind,
    restore_database,
    row_counts,
)
from certify.storage import Storage, StoredFile, relative_name, storage
from certify.storage.local import stored_paths
from certify.timeutil import utcnow

FORMAT = "certify-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
_STORED_PATH = re.compile(r"([0-9a-f]{2})/([0-9a-f]{2})/(\1\2[0-9a-f]{60})")
_DATABASE_MEMBER = re.compile(r"database/certify\.(sqlite3|pgdump)")
_CHUNK = 1024 * 1024

backup_cli = AppGroup("backup", help="Back up and restore the database and the stored files.")


class BackupError(Exception):
    """A backup or restore was refused or failed; the message tells the operator why."""


@dataclass
class RestoreReport:
    """What a restore put back, and what the checks after it found."""

    manifest: dict
    row_counts: dict[str, int]
    mismatched_tables: list[str]
    audit_checked: int
    audit_breaks: list
    code_head: str


def stored_files(root: Path) -> dict[str, Path]:
    """Every file of a local storage folder laid out as ``ab/cd/<sha256>``, by that relative path.

    Anything else under the root (temporary ``.incoming-`` files, staging folders) is left out.
    """
    return stored_paths(root)


def _script_directory() -> ScriptDirectory:
    return ScriptDirectory.from_config(current_app.extensions["migrate"].migrate.get_config())


# Creating ----------------------------------------------------------------------------------

class _HashingReader:
    """Wraps a binary file so that whatever is read from it is also hashed."""

    def __init__(self, handle):
        self.handle = handle
        self.digest = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self.handle.read(size)
        self.digest.update(data)
        return data


def _add_file(archive: tarfile.TarFile, path: Path, name: str) -> dict | None:
    """Add ``path`` as ``name``; return its size and sha256, or ``None`` if it vanished."""
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        return None
    with handle:
        info = tarfile.TarInfo(name)
        info.size = os.fstat(handle.fileno()).st_size
        info.mtime = int(os.fstat(handle.fileno()).st_mtime)
        info.mode = 0o600
        reader = _HashingReader(handle)
        archive.addfile(info, reader)
    return {"size": info.size, "sha256": reader.digest.hexdigest()}


def _add_stored(archive: tarfile.TarFile, store: Storage, item: StoredFile, mtime: int) -> dict | None:
    """Stream the stored file ``item`` into the archive; return its size and sha256, or
    ``None`` if it was deleted since it was listed."""
    try:
        handle = store.open_file(item.sha256)
    except FileNotFoundError:
        return None
    with handle:
        info = tarfile.TarInfo(f"storage/{relative_name(item.sha256)}")
        info.size, info.mtime, info.mode = item.size, mtime, 0o600
        reader = _HashingReader(handle)
        archive.addfile(info, reader)
    return {"size": info.size, "sha256": reader.digest.hexdigest()}


def _add_bytes(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(utcnow().timestamp())
    info.mode = 0o600
    archive.addfile(info, io.BytesIO(data))


def _archive_path(folder: Path, created_at) -> Path:
    stem = f"certify-backup-{created_at:%Y%m%dT%H%M%SZ}"
    path, number = folder / f"{stem}.tar.gz", 1
    while path.exists():
        number += 1
        path = folder / f"{stem}-{number}.tar.gz"
    return path


def create_backup(output_dir: Path) -> tuple[Path, dict]:
    """Write an archive of the database and the stored files into ``output_dir``; return its
    path and manifest. The archive appears under its final name only once complete."""
    output_dir.mkdir(parents=True, exist_ok=True)
    created_at = utcnow()
    target = _archive_path(output_dir, created_at)
    partial = target.with_name(f".{target.name}.partial")
    db.session.remove()
    with tempfile.TemporaryDirectory(prefix="certify-backup-") as work:
        try:
            copy = copy_database(db.engine, Path(work))
        except DatabaseCopyError as error:
            raise BackupError(str(error)) from error
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(descriptor, "wb") as raw:
                with tarfile.open(fileobj=raw, mode="w:gz") as archive:
                    manifest = _write_contents(archive, copy, created_at)
                raw.flush()
                os.fsync(raw.fileno())
            os.replace(partial, target)
        finally:
            partial.unlink(missing_ok=True)
    return target, manifest


def _write_contents(archive: tarfile.TarFile, copy, created_at) -> dict:
    database_name = f"database/{copy.path.name}"
    database_entry = {"kind": copy.kind, "schema": copy.schema, "path": database_name,
                      **_add_file(archive, copy.path, database_name)}
    files = []
    store = storage()
    for item in store.stored_files():
        added = _add_stored(archive, store, item, int(created_at.timestamp()))
        if added is not None:  # deleted since it was listed: no record refers to it any more
            files.append({"path": relative_name(item.sha256), **added})
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "created_at": created_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "alembic_revision": copy.revision,
        "database": database_entry,
        "tables": copy.row_counts,
        "files": files,
    }
    _add_bytes(archive, MANIFEST, json.dumps(manifest, indent=2, sort_keys=True).encode("utf-8"))
    return manifest


# Restoring ---------------------------------------------------------------------------------

def _unpack(archive_path: Path, staging: Path) -> tuple[dict, dict[str, dict]]:
    """Copy every member of the archive into ``staging``, hashing it on the way; return the
    manifest and ``{member name: {"path", "size", "sha256"}}``. Refuses anything that is not a
    regular file with a name the archive format allows."""
    members: dict[str, dict] = {}
    manifest_bytes = None
    try:
        with tarfile.open(archive_path, "r:gz") as archive:
            for member in archive:
                name = member.name
                if not member.isfile() or name in members or not (
                        name == MANIFEST or _DATABASE_MEMBER.fullmatch(name)
                        or (name.startswith("storage/")
                            and _STORED_PATH.fullmatch(name.removeprefix("storage/")))):
                    raise BackupError(f"the archive holds an unexpected entry: {name!r}")
                source = archive.extractfile(member)
                if name == MANIFEST:
                    manifest_bytes = source.read(10 * _CHUNK)
                    continue
                target = staging / name
                target.parent.mkdir(parents=True, exist_ok=True)
                digest, size = hashlib.sha256(), 0
                with target.open("wb") as handle:
                    while chunk := source.read(_CHUNK):
                        digest.update(chunk)
                        size += len(chunk)
                        handle.write(chunk)
                members[name] = {"path": target, "size": size, "sha256": digest.hexdigest()}
    except (tarfile.TarError, OSError, EOFError) as error:
        raise BackupError(f"cannot read the archive {archive_path}: {error}") from error
    if manifest_bytes is None:
        raise BackupError("the archive has no manifest.json: it is not a certify backup")
    try:
        manifest = json.loads(manifest_bytes)
    except ValueError as error:
        raise BackupError(f"the manifest is not valid JSON: {error}") from error
    return manifest, members


def _check_members(manifest: dict, members: dict[str, dict]) -> None:
    """Every entry the manifest lists is present with its size and sha256, and nothing else."""
    try:
        expected = {manifest["database"]["path"]: manifest["database"]}
        expected |= {f"storage/{entry['path']}": entry for entry in manifest["files"]}
    except (KeyError, TypeError) as error:
        raise BackupError(f"the manifest is incomplete (missing {error})") from error
    missing = sorted(set(expected) - set(members))
    extra = sorted(set(members) - set(expected))
    if missing or extra:
        raise BackupError(f"the archive does not match its manifest: missing {missing[:5]}, "
                          f"not listed {extra[:5]}")
    for name, entry in expected.items():
        found = members[name]
        if (found["size"], found["sha256"]) != (entry.get("size"), entry.get("sha256")):
            raise BackupError(f"{name} is damaged: its sha256 or size differs from the manifest")
        if name.startswith("storage/") and not name.endswith(found["sha256"]):
            raise BackupError(f"{name} does not hold the content its name promises")


def _check_compatible(manifest: dict) -> str:
    """Refuse archives this code cannot restore; return the code's head revision."""
    if manifest.get("format") != FORMAT:
        raise BackupError("the manifest does not describe a certify backup")
    version = manifest.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise BackupError(f"the archive has format version {version!r}; this code reads up to "
                          f"{FORMAT_VERSION}: restore it with a newer certify")
    try:
        kind = database_kind(db.engine)
    except DatabaseCopyError as error:
        raise BackupError(str(error)) from error
    if manifest["database"].get("kind") != kind:
        raise BackupError(f"the archive holds a {manifest['database'].get('kind')} database, but "
                          f"this application uses {kind}")
    script = _script_directory()
    heads = script.get_heads()
    revision = manifest.get("alembic_revision")
    known = {script_revision.revision for script_revision in script.walk_revisions()}
    if revision is None:
        raise BackupError("the archived database has no migration revision")
    if revision not in known:
        raise BackupError(f"the archived database is at revision {revision}, which this code does "
                          f"not know (its head is {', '.join(heads)}): the archive comes from a "
                          "newer certify; deploy that version before restoring")
    return heads[0]


def target_contents() -> list[str]:
    """What a restore would overwrite: rows in the database and files in the storage."""
    found = []
    counts = {name: count for name, count in row_counts(db.engine).items()
              if name != "alembic_version" and count}
    if counts:
        found.append(f"{sum(counts.values())} rows in {len(counts)} tables")
    files = sum(1 for _ in storage().stored_files())
    if files:
        found.append(f"{files} stored files")
    return found


def restore_backup(archive_path: Path, *, replace: bool = False) -> RestoreReport:
    """Replace the database and the stored files with the archive's, after checking it fully.

    Without ``replace`` a database or storage that holds anything is left alone.
    """
    if not replace and (found := target_contents()):
        raise BackupError(f"the target is not empty ({'; '.join(found)}): restoring replaces all "
                          "of it; run again with --yes to confirm")
    store = storage()
    # A local storage stages inside its root, so that files move into place without a copy.
    staging = Path(tempfile.mkdtemp(prefix=".restore-", dir=store.staging_folder()))
    try:
        manifest, members = _unpack(archive_path, staging)
        _check_members(manifest, members)
        code_head = _check_compatible(manifest)
        db.session.remove()
        try:
            restore_database(db.engine, members[manifest["database"]["path"]]["path"],
                             kind=manifest["database"]["kind"],
                             schema=manifest["database"].get("schema"),
                             tables=list(manifest["tables"]))
        except DatabaseCopyError as error:
            raise BackupError(str(error)) from error
        _replace_stored_files(store, {members[f"storage/{entry['path']}"]["sha256"]:
                                      members[f"storage/{entry['path']}"]["path"]
                                      for entry in manifest["files"]})
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    counts = row_counts(db.engine)
    mismatched = sorted(name for name in set(counts) | set(manifest["tables"])
                        if counts.get(name) != manifest["tables"].get(name))
    checked, breaks = verify_chain()
    db.session.remove()
    return RestoreReport(manifest, counts, mismatched, checked, breaks, code_head)


def _replace_stored_files(store: Storage, staged: dict[str, Path]) -> None:
    """Make the storage hold exactly ``staged`` (sha256 -> a checked file, which is consumed)."""
    for item in list(store.stored_files()):
        if item.sha256 not in staged:
            store.delete(item.sha256)
    for sha256, source in staged.items():
        store.adopt(source, sha256)


# Commands ----------------------------------------------------------------------------------

@backup_cli.command("create")
@click.option("--output", "output_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the archive (default: instance/backups).")
def backup_create(output_dir: Path | None) -> None:
    """Write one archive with the database and every stored file, while the application runs."""
    output_dir = output_dir or Path(current_app.instance_path) / "backups"
    try:
        path, manifest = create_backup(output_dir)
    except BackupError as error:
        raise click.ClickException(str(error)) from error
    rows = sum(count for name, count in manifest["tables"].items() if name != "alembic_version")
    click.echo(f"Backup written: {path}")
    click.echo(f"  {manifest['database']['kind']} database at revision "
               f"{manifest['alembic_revision']}: {rows} rows in {len(manifest['tables'])} tables")
    click.echo(f"  {len(manifest['files'])} stored files, archive {path.stat().st_size} bytes")


@backup_cli.command("restore")
@click.argument("archive", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True,
              help="Replace a database and storage that are not empty.")
def backup_restore(archive: Path, yes: bool) -> None:
    """Replace the database and the stored files with those in ARCHIVE.

    Stop the application (web and job workers) first. The archive is checked in full before
    anything is replaced.
    """
    try:
        report = restore_backup(archive, replace=yes)
    except BackupError as error:
        raise click.ClickException(str(error)) from error
    manifest = report.manifest
    click.echo(f"Restored the backup made at {manifest['created_at']}: "
               f"{len(manifest['tables'])} tables, {len(manifest['files'])} stored files.")
    failed = False
    if report.mismatched_tables:
        failed = True
        click.echo(f"PROBLEM: row counts differ from the manifest in {report.mismatched_tables}")
    if report.audit_breaks:
        failed = True
        first = report.audit_breaks[0]
        click.echo(f"PROBLEM: the audit chain is broken at event {first.event_id}: {first.reason} "
                   "(run `flask audit verify` for every break)")
    else:
        click.echo(f"Audit chain verified: {report.audit_checked} events.")
    if manifest["alembic_revision"] != report.code_head:
        click.echo(f"The database is at revision {manifest['alembic_revision']}, older than this "
                   f"code ({report.code_head}): run `flask db upgrade`.")
    if failed:
        raise SystemExit(1)
