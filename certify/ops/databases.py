"""Copying the whole database into one file and back, for ``flask backup``.

SQLite is copied with its online backup API, which takes a consistent copy while the
application keeps running. PostgreSQL is copied with ``pg_dump --format=custom`` of the schema
the application works in (the first schema of its ``search_path``, usually ``public``) and put
back with ``pg_restore --clean --if-exists --no-owner`` in one transaction. The client programs
are found on ``PATH``; the connection settings reach them through the ``PG*`` environment
variables, so that no password ever appears on a command line.

The row counts and the Alembic revision stored with a copy are read from the very state that
was copied: from the copied SQLite file, or inside a PostgreSQL transaction whose snapshot
``pg_dump`` shares (``--snapshot``).
"""

import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from alembic.migration import MigrationContext
from sqlalchemy.engine import URL, Connection, Engine
from sqlalchemy.pool import NullPool

SUPPORTED_KINDS = ("sqlite", "postgresql")

# URL query parameters that libpq also reads from the environment.
_LIBPQ_QUERY_VARIABLES = {
    "host": "PGHOST", "port": "PGPORT", "sslmode": "PGSSLMODE", "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT", "sslkey": "PGSSLKEY", "connect_timeout": "PGCONNECT_TIMEOUT",
}


class DatabaseCopyError(Exception):
    """Copying or restoring the database was refused or failed; the message says why."""


@dataclass
class DatabaseCopy:
    """A copy of the database in ``path``, and what it holds."""

    path: Path
    kind: str
    revision: str | None
    row_counts: dict[str, int] = field(default_factory=dict)
    schema: str | None = None


def database_kind(engine: Engine) -> str:
    """``"sqlite"`` or ``"postgresql"``; ``DatabaseCopyError`` for any other database."""
    kind = engine.dialect.name
    if kind not in SUPPORTED_KINDS:
        raise DatabaseCopyError(f"backups support SQLite and PostgreSQL, not {kind}")
    return kind


def copy_database(engine: Engine, folder: Path) -> DatabaseCopy:
    """Copy the whole database into a new file in ``folder`` without stopping the application."""
    if database_kind(engine) == "sqlite":
        return _copy_sqlite(engine, folder / "certify.sqlite3")
    return _copy_postgresql(engine, folder / "certify.pgdump")


def restore_database(engine: Engine, copy: Path, *, kind: str, schema: str | None,
                     tables: list[str]) -> None:
    """Replace the database's contents with ``copy`` (made by :func:`copy_database`).

    ``tables`` are the tables the copy holds; on PostgreSQL, tables of the target schema that
    the copy does not hold are dropped first, so that the result is the copy and nothing else.
    """
    if database_kind(engine) != kind:
        raise DatabaseCopyError(f"the backup holds a {kind} database, but this application "
                                f"uses {engine.dialect.name}")
    if kind == "sqlite":
        _restore_sqlite(engine, copy)
    else:
        _restore_postgresql(engine, copy, schema, tables)


def row_counts(engine: Engine) -> dict[str, int]:
    """The number of rows of every table in the application's schema, by table name."""
    with engine.connect() as connection:
        return _row_counts(connection)


def current_revision(connection: Connection) -> str | None:
    """The Alembic revision the database is stamped with, or ``None`` if it has none."""
    heads = MigrationContext.configure(connection).get_current_heads()
    if len(heads) > 1:
        raise DatabaseCopyError(f"the database is stamped with several revisions: {heads}")
    return heads[0] if heads else None


def _row_counts(connection: Connection) -> dict[str, int]:
    names = sorted(sa.inspect(connection).get_table_names())
    return {name: connection.execute(sa.select(sa.func.count()).select_from(sa.table(name))).scalar_one()
            for name in names}


# SQLite ------------------------------------------------------------------------------------

def _sqlite_file(engine: Engine) -> Path:
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        raise DatabaseCopyError("only a SQLite database in a plain file can be backed up")
    return Path(database)


def _copy_sqlite(engine: Engine, target: Path) -> DatabaseCopy:
    source_file = _sqlite_file(engine)
    if not source_file.is_file():
        raise DatabaseCopyError(f"there is no database file at {source_file}")
    # One step: a consistent snapshot; in WAL mode writers carry on meanwhile.
    _sqlite_backup(f"{source_file.resolve().as_uri()}?mode=ro", target)
    copy_engine = sa.create_engine(f"sqlite:///{target}", poolclass=NullPool)
    try:
        with copy_engine.connect() as connection:
            return DatabaseCopy(target, "sqlite", current_revision(connection),
                                _row_counts(connection))
    finally:
        copy_engine.dispose()


def _restore_sqlite(engine: Engine, copy: Path) -> None:
    target_file = _sqlite_file(engine)
    engine.dispose()
    target_file.parent.mkdir(parents=True, exist_ok=True)
    # The backup API overwrites every page of the destination, under its lock: connections
    # other processes hold stay valid and see the restored database.
    _sqlite_backup(copy.resolve().as_uri(), target_file)


def _sqlite_backup(source_uri: str, target: Path) -> None:
    source = sqlite3.connect(source_uri, uri=True)
    destination = sqlite3.connect(target)
    try:
        source.backup(destination)
    finally:
        destination.close()
        source.close()


# PostgreSQL --------------------------------------------------------------------------------

def client_program(name: str) -> str:
    """The path of the PostgreSQL client program ``name``; ``DatabaseCopyError`` if missing."""
    path = shutil.which(name)
    if path is None:
        raise DatabaseCopyError(
            f"{name} is not on PATH; install the PostgreSQL client programs of the server's "
            "major version or newer (Debian: apt-get install -y postgresql-client)")
    return path


def client_environment(url: URL) -> dict[str, str]:
    """The environment for ``pg_dump``/``pg_restore``: the current one plus the ``PG*``
    variables taken from the SQLAlchemy URL (the password never goes on a command line)."""
    environment = dict(os.environ)
    values = {"PGHOST": url.host, "PGPORT": url.port, "PGUSER": url.username,
              "PGPASSWORD": url.password, "PGDATABASE": url.database}
    for parameter, variable in _LIBPQ_QUERY_VARIABLES.items():
        value = url.query.get(parameter)
        if isinstance(value, tuple):
            value = value[0] if value else None
        if value and values.get(variable) is None:
            values[variable] = value
    environment.update({name: str(value) for name, value in values.items() if value is not None})
    return environment


def _run(arguments: list[str], url: URL) -> subprocess.CompletedProcess:
    result = subprocess.run(arguments, env=client_environment(url), capture_output=True,  # noqa: S603 - pg_dump/pg_restore found on PATH, arguments built here, never a shell
                            text=True, check=False)
    if result.returncode != 0:
        program = Path(arguments[0]).name
        raise DatabaseCopyError(f"{program} failed: {result.stderr.strip() or result.returncode}")
    return result


def _schema_pattern(schema: str) -> str:
    # Double quotes make pg_dump take the name literally (no case folding, no wildcards).
    return '"' + schema.replace('"', '""') + '"'


def _current_schema(connection: Connection) -> str:
    schema = connection.execute(sa.text("SELECT current_schema()")).scalar()
    if schema is None:
        raise DatabaseCopyError("no schema of the search_path exists in the database; create it "
                                "first (CREATE SCHEMA …)")
    return schema


def _copy_postgresql(engine: Engine, target: Path) -> DatabaseCopy:
    pg_dump = client_program("pg_dump")
    with engine.connect().execution_options(isolation_level="REPEATABLE READ") as connection:
        with connection.begin():
            schema = _current_schema(connection)
            snapshot = connection.execute(sa.text("SELECT pg_export_snapshot()")).scalar_one()
            revision = current_revision(connection)
            counts = _row_counts(connection)
            # pg_dump reads the snapshot this transaction exported, so the dump holds exactly
            # the rows counted above.
            _run([pg_dump, "--format=custom", f"--schema={_schema_pattern(schema)}",
                  f"--snapshot={snapshot}", f"--file={target}"], engine.url)
    return DatabaseCopy(target, "postgresql", revision, counts, schema)


def _is_schema_entry(line: str) -> bool:
    # "6; 2615 77911 SCHEMA - name owner" and "3465; 0 0 ACL - SCHEMA public owner": the schema
    # itself stays as it is (owner, grants); only what is inside it is replaced.
    return " SCHEMA - " in line or " - SCHEMA " in line


def _restore_postgresql(engine: Engine, copy: Path, schema: str | None, tables: list[str]) -> None:
    pg_restore = client_program("pg_restore")
    with engine.begin() as connection:
        target_schema = _current_schema(connection)
        if schema != target_schema:
            raise DatabaseCopyError(
                f"the backup holds schema {schema!r}, but this application works in schema "
                f"{target_schema!r}; restore with a search_path that starts with {schema!r}")
        quote = connection.dialect.identifier_preparer.quote
        for name in sorted(set(sa.inspect(connection).get_table_names()) - set(tables)):
            connection.execute(sa.text(f"DROP TABLE IF EXISTS {quote(schema)}.{quote(name)} CASCADE"))
    engine.dispose()
    listing = _run([pg_restore, "--list", str(copy)], engine.url).stdout
    use_list = copy.with_suffix(".list")
    use_list.write_text("\n".join(line for line in listing.splitlines()
                                  if not _is_schema_entry(line)) + "\n", encoding="utf-8")
    # An empty --dbname makes pg_restore connect (to PGDATABASE) instead of printing SQL.
    _run([pg_restore, "--clean", "--if-exists", "--no-owner", "--single-transaction",
          "--exit-on-error", f"--use-list={use_list}", "--dbname=", str(copy)], engine.url)
