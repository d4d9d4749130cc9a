"""`flask backup create` / `flask backup restore`: one archive holds the database and every stored
file; restoring it gives back identical rows and files, with the audit chain intact, and refuses
archives that are damaged, foreign or newer than the code, and targets that are not empty.

Each test works on a database of its own (a SQLite file, or a PostgreSQL schema of its own), so
that wiping and restoring never touches the rest of the suite; its files are in a folder of its own,
or, for the tests marked so, in a prefix of its own in the object store (a real SeaweedFS)."""

import hashlib
import io
import json
import shutil
import tarfile
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from certify import ops
from certify.audit.services import record_event, verify_chain
from certify.config import database_url as with_driver
from certify.demo import load_demo
from certify.extensions import db as _db
from certify.ops import databases
from certify.storage import LocalStorage, open_file, storage, store_bytes
from tests import factories
from tests.conftest import PG_SCHEMA, is_postgresql

OPS_SCHEMA = f"{PG_SCHEMA}_backup"


@pytest.fixture()
def backup_app(request, make_app, database_url, tmp_path):
    """An application on a migrated database of its own, with the ops commands registered; its
    files in a local folder, or with ``indirect`` parameter ``"s3"`` in the object store."""
    settings = request.getfixturevalue("s3_settings") if getattr(request, "param", "local") == "s3" else {}
    if is_postgresql(database_url):
        admin = sa.create_engine(with_driver(database_url))
        with admin.begin() as connection:
            connection.execute(sa.text(f"DROP SCHEMA IF EXISTS {OPS_SCHEMA} CASCADE"))
            connection.execute(sa.text(f"CREATE SCHEMA {OPS_SCHEMA}"))
        application = make_app(SQLALCHEMY_ENGINE_OPTIONS={
            "connect_args": {"options": f"-csearch_path={OPS_SCHEMA}"}}, **settings)
    else:
        admin = None
        application = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'own.sqlite3'}", **settings)
    ops.init_app(application)
    with application.app_context():
        upgrade()
        _db.session.remove()
    yield application
    with application.app_context():
        _db.session.remove()
        _db.engine.dispose()
    if admin is not None:
        with admin.begin() as connection:
            connection.execute(sa.text(f"DROP SCHEMA IF EXISTS {OPS_SCHEMA} CASCADE"))
        admin.dispose()


def invoke(application, *arguments):
    with application.app_context():
        result = application.test_cli_runner().invoke(args=list(arguments))
        _db.session.remove()
        return result


def fill_with_data() -> None:
    """Users, organisations, audit events with Chinese details, and stored files."""
    load_demo()
    admin = factories.make_user("admin")
    for number in range(25):
        record_event("thing.done", actor=admin, object_type="thing", object_id=number,
                     details={"n": number, "名称": "绿色工厂", "nested": [1, None, "二"]})
    for number in range(12):
        store_bytes(f"证据文件 {number}\n".encode() * (number * 500 + 1))
    store_bytes(b"")
    _db.session.commit()


def table_rows() -> dict[str, list[tuple]]:
    """Every row of every table, in primary-key order."""
    metadata = sa.MetaData()
    metadata.reflect(_db.engine)
    with _db.engine.connect() as connection:
        return {table.name: connection.execute(
                    sa.select(table).order_by(*(table.primary_key.columns or table.columns))).all()
                for table in metadata.sorted_tables}


def file_set() -> dict[str, str]:
    """Every stored file's place in the storage and the sha256 of the bytes read there."""
    found = {}
    for item in storage().stored_files():
        with open_file(item.sha256) as handle:
            found[f"{item.sha256[:2]}/{item.sha256[2:4]}/{item.sha256}"] = hashlib.sha256(handle.read()).hexdigest()
    return found


def wipe(application) -> None:
    """Remove every table and every stored file, as if the machine were lost."""
    with application.app_context():
        _db.session.remove()
        if _db.engine.dialect.name == "postgresql":
            with _db.engine.begin() as connection:
                connection.execute(sa.text(f"DROP SCHEMA {OPS_SCHEMA} CASCADE"))
                connection.execute(sa.text(f"CREATE SCHEMA {OPS_SCHEMA}"))
        else:
            _db.engine.dispose()
            Path(_db.engine.url.database).unlink()
        store = storage()
        if isinstance(store, LocalStorage):
            shutil.rmtree(store.root)
        else:
            for item in list(store.stored_files()):
                store.delete(item.sha256)


def create_archive(application, folder: Path) -> Path:
    result = invoke(application, "backup", "create", "--output", str(folder))
    assert result.exit_code == 0, result.output
    [archive] = folder.glob("certify-backup-*.tar.gz")
    return archive


@pytest.mark.parametrize("backup_app", ["local", "s3"], indirect=True)
def test_a_round_trip_restores_identical_rows_and_files_and_a_verifiable_chain(
        backup_app, tmp_path, monkeypatch):
    calls = []
    real_run = databases.subprocess.run
    monkeypatch.setattr(databases.subprocess, "run",
                        lambda arguments, **kwargs: calls.append(arguments) or real_run(arguments, **kwargs))
    with backup_app.app_context():
        fill_with_data()
        rows_before, files_before = table_rows(), file_set()
        assert verify_chain()[1] == [] and len(files_before) == 13
    archive = create_archive(backup_app, tmp_path / "backups")
    assert archive.stat().st_mode & 0o777 == 0o600  # it holds password hashes

    wipe(backup_app)
    result = invoke(backup_app, "backup", "restore", str(archive))
    assert result.exit_code == 0, result.output

    with backup_app.app_context():
        rows_after, files_after = table_rows(), file_set()
        kind = _db.engine.dialect.name
        checked, breaks = verify_chain()
        # The restored database carries on: new ids do not collide, the chain grows on.
        record_event("thing.after_restore", object_type="thing", object_id="x")
        _db.session.commit()
        assert verify_chain() == (checked + 1, [])
    differing = [name for name in rows_before if rows_before[name] != rows_after.get(name)]
    total_rows = sum(len(rows) for rows in rows_before.values())
    print(f"\nbackup round trip ({kind}): "
          f"{len(rows_before)} tables, {total_rows} rows, {len(files_before)} files compared; "
          f"{len(differing)} tables and {len(set(files_before.items()) ^ set(files_after.items()))} "
          f"files differ; audit chain {checked} events, {len(breaks)} breaks")
    assert set(rows_after) == set(rows_before) and differing == []
    assert files_after == files_before
    assert breaks == [] and checked >= 25
    assert f"Audit chain verified: {checked} events." in result.output
    for arguments in calls:  # the connection reaches pg_dump/pg_restore by environment only
        assert not any("postgres" in argument and "@" in argument for argument in arguments)


def test_the_manifest_describes_the_archive(backup_app, tmp_path):
    with backup_app.app_context():
        fill_with_data()
        counts = {name: len(rows) for name, rows in table_rows().items()}
        files = file_set()
        head = _db.session.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
    archive = create_archive(backup_app, tmp_path)
    with tarfile.open(archive) as contents:
        manifest = json.load(contents.extractfile("manifest.json"))
        names = set(contents.getnames())
    assert manifest["format"] == "certify-backup" and manifest["format_version"] == 1
    assert manifest["created_at"].endswith("Z") and manifest["created_at"][:4].isdigit()
    assert manifest["alembic_revision"] == head
    assert manifest["database"]["kind"] in ("sqlite", "postgresql")
    assert manifest["tables"] == counts
    assert {entry["path"]: entry["sha256"] for entry in manifest["files"]} == files
    assert names == ({"manifest.json", manifest["database"]["path"]}
                     | {f"storage/{path}" for path in files})


def backup_with_a_user_added_after(application, tmp_path) -> Path:
    """Fill the database, back it up, then add a user; return the archive."""
    with application.app_context():
        fill_with_data()
    archive = create_archive(application, tmp_path / "backups")
    with application.app_context():
        factories.make_user("applicant")
        _db.session.commit()
    return archive


def test_restore_refuses_a_target_that_is_not_empty_without_yes(backup_app, tmp_path):
    archive = backup_with_a_user_added_after(backup_app, tmp_path)
    with backup_app.app_context():
        rows = table_rows()
    result = invoke(backup_app, "backup", "restore", str(archive))
    assert result.exit_code == 1
    assert "not empty" in result.output and "--yes" in result.output
    with backup_app.app_context():
        assert table_rows() == rows


@pytest.mark.parametrize("backup_app", ["local", "s3"], indirect=True)
def test_restore_with_yes_replaces_everything_with_the_archive(backup_app, tmp_path):
    with backup_app.app_context():
        fill_with_data()
        rows, files = table_rows(), file_set()
    archive = create_archive(backup_app, tmp_path / "backups")
    with backup_app.app_context():
        factories.make_user("applicant")
        record_event("thing.later", object_type="thing", object_id="later")
        store_bytes(b"a file stored after the backup")
        _db.session.commit()
    result = invoke(backup_app, "backup", "restore", str(archive), "--yes")
    assert result.exit_code == 0, result.output
    with backup_app.app_context():
        assert table_rows() == rows
        assert file_set() == files


def rewrite_archive(archive: Path, target: Path, change) -> Path:
    """Copy ``archive`` to ``target``, passing each member's (name, bytes) through ``change``,
    which returns the new (name, bytes) or None to leave the member out."""
    with tarfile.open(archive) as source, tarfile.open(target, "w:gz") as copy:
        for member in source:
            changed = change(member.name, source.extractfile(member).read())
            if changed is not None:
                info = tarfile.TarInfo(changed[0])
                info.size = len(changed[1])
                copy.addfile(info, io.BytesIO(changed[1]))
    return target


def _damage_a_file(name, data):
    return (name, data[:-1] + b"X") if name.startswith("storage/") and data else (name, data)


def _newer_revision(name, data):
    if name != "manifest.json":
        return name, data
    manifest = json.loads(data)
    manifest["alembic_revision"] = "fffffffffff1"
    return name, json.dumps(manifest).encode()


def _traversal(name, data):
    return ("../escaped" if name.startswith("storage/") else name), data


def _missing_file(name, data):
    return None if name.startswith("storage/") else (name, data)


REFUSED_ARCHIVES = {
    "a stored file was altered": (_damage_a_file, "damaged"),
    "the database is newer than the code": (_newer_revision, "newer certify"),
    "an entry escapes the storage folder": (_traversal, "unexpected entry"),
    "a listed file is missing": (_missing_file, "does not match its manifest"),
}


@pytest.mark.parametrize("damage", REFUSED_ARCHIVES, ids=list(REFUSED_ARCHIVES))
def test_restore_refuses_a_bad_archive_before_replacing_anything(backup_app, tmp_path, damage):
    change, message = REFUSED_ARCHIVES[damage]
    archive = backup_with_a_user_added_after(backup_app, tmp_path)
    with backup_app.app_context():
        rows, files = table_rows(), file_set()
    bad = rewrite_archive(archive, tmp_path / "bad.tar.gz", change)
    result = invoke(backup_app, "backup", "restore", str(bad), "--yes")
    assert result.exit_code == 1
    assert message in result.output
    with backup_app.app_context():
        assert table_rows() == rows
        assert file_set() == files
    assert not (tmp_path / "escaped").exists()


def test_a_missing_postgresql_client_is_named_with_its_package(monkeypatch):
    monkeypatch.setenv("PATH", "")
    with pytest.raises(databases.DatabaseCopyError, match="postgresql-client"):
        databases.client_program("pg_dump")


def test_connection_settings_reach_the_postgresql_clients_through_the_environment():
    url = sa.engine.make_url(
        "postgresql+psycopg://certify:s3cr%40t@db.internal:6543/register?sslmode=require")
    environment = databases.client_environment(url)
    assert {name: environment[name] for name in
            ("PGHOST", "PGPORT", "PGUSER", "PGPASSWORD", "PGDATABASE", "PGSSLMODE")} == {
        "PGHOST": "db.internal", "PGPORT": "6543", "PGUSER": "certify", "PGPASSWORD": "s3cr@t",
        "PGDATABASE": "register", "PGSSLMODE": "require"}
