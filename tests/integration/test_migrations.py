"""The migrations build exactly the schema the models describe, in one line of history."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from certify.extensions import db as _db


def test_there_is_exactly_one_head(app):
    with app.app_context():
        config = app.extensions["migrate"].migrate.get_config()
        heads = ScriptDirectory.from_config(config).get_heads()
    assert len(heads) == 1, heads


def test_migrations_file_names_start_with_their_date(app):
    with app.app_context():
        config = app.extensions["migrate"].migrate.get_config()
        scripts = list(ScriptDirectory.from_config(config).walk_revisions())
    for script in scripts:
        name = script.path.rsplit("/", 1)[-1]
        assert name[:8].isdigit() and name[8] == "_", name


def test_the_migrated_database_matches_the_models(app, db):
    # The test database was built by running the migrations (see conftest).
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, db.metadata)
    assert differences == []


def test_migrations_go_down_to_nothing_and_up_again(make_app, tmp_path):
    app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'roundtrip.sqlite3'}")
    with app.app_context():
        upgrade()
        assert "users" in inspect(_db.engine).get_table_names()
        downgrade(revision="base")
        assert inspect(_db.engine).get_table_names() == ["alembic_version"]
        upgrade()
        assert "audit_events" in inspect(_db.engine).get_table_names()


def test_the_entry_counts_of_batches_announced_before_are_filled_in(make_app, tmp_path):
    from sqlalchemy import select

    from certify.demo import load_demo, load_public_demo
    from certify.publication.models import Batch, BatchStatus

    app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'counts.sqlite3'}")
    with app.app_context():
        upgrade()
        load_demo()
        load_public_demo()
        _db.session.commit()
        announced = select(Batch.id, Batch.kind_counts).where(Batch.status == BatchStatus.ANNOUNCED)
        kept = dict(_db.session.execute(announced).all())
        assert kept and all(kept.values())
        _db.session.remove()
        downgrade(revision="-1")  # the column goes, and comes back filled in from the entries
        upgrade()
        assert dict(_db.session.execute(announced).all()) == kept
