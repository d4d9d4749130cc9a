"""Scores that cannot silently change: the threshold an application pinned when it was opened
(with its source), its self-assessment's result frozen at submission, not-applicable declarations
and the assessor's decisions on them, the texts typed beside the numbers, and re-scores.

Applications opened before pin the threshold their rule set gives them now (the deployment's
CRITERIA_THRESHOLDS entry for it, else the rule file's); a submitted application's frozen result
is the self-score recorded with its last submission.

Revision ID: 5c3e1f7a9b42
Revises: bac2bf0d43f5
Create Date: 2026-12-06 03:30:00

"""
from decimal import Decimal

from alembic import op
import sqlalchemy as sa
from flask import current_app


# revision identifiers, used by Alembic.
revision = '5c3e1f7a9b42'
down_revision = 'bac2bf0d43f5'
branch_labels = None
depends_on = None

def upgrade():
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('threshold', sa.Numeric(precision=8, scale=2), nullable=True))
        batch_op.add_column(sa.Column('threshold_source', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('answer_texts', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('not_applicable', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('self_result', sa.JSON(), nullable=True))
    with op.batch_alter_table('score_sheets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('answer_texts', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('not_applicable', sa.JSON(), nullable=True))
    op.create_table('rescores',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('score_sheet_id', sa.Integer(), nullable=True),
    sa.Column('previous', sa.JSON(), nullable=False),
    sa.Column('current', sa.JSON(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('rescored_by_id', sa.Integer(), nullable=False),
    sa.Column('rescored_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'], name=op.f('fk_rescores_application_id_applications')),
    sa.ForeignKeyConstraint(['rescored_by_id'], ['users.id'], name=op.f('fk_rescores_rescored_by_id_users')),
    sa.ForeignKeyConstraint(['score_sheet_id'], ['score_sheets.id'], name=op.f('fk_rescores_score_sheet_id_score_sheets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rescores'))
    )
    with op.batch_alter_table('rescores', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rescores_application_id'), ['application_id'], unique=False)

    connection = op.get_bind()
    connection.execute(sa.text("UPDATE applications SET answer_texts = '{}', not_applicable = '{}'"))
    connection.execute(sa.text("UPDATE score_sheets SET answer_texts = '{}', not_applicable = '{}'"))
    _pin_thresholds(connection)
    connection.execute(sa.text(
        "UPDATE applications SET self_result = (SELECT submissions.self_score FROM submissions"
        " WHERE submissions.application_id = applications.id ORDER BY submissions.number DESC LIMIT 1)"
        " WHERE status != 'draft'"))
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.alter_column('threshold_source', existing_type=sa.String(length=200), nullable=False)
        batch_op.alter_column('answer_texts', existing_type=sa.JSON(), nullable=False)
        batch_op.alter_column('not_applicable', existing_type=sa.JSON(), nullable=False)
    with op.batch_alter_table('score_sheets', schema=None) as batch_op:
        batch_op.alter_column('answer_texts', existing_type=sa.JSON(), nullable=False)
        batch_op.alter_column('not_applicable', existing_type=sa.JSON(), nullable=False)


def _pin_thresholds(connection):
    """One frozen copy read per rule set and version (a few per deployment), not per application."""
    overrides = current_app.config.get("CRITERIA_THRESHOLDS") or {}
    versions = connection.execute(sa.text(
        "SELECT DISTINCT rule_set_id, rule_set_version FROM applications")).all()
    frozen = sa.text(
        "SELECT rule_set_frozen FROM applications WHERE rule_set_id = :id AND rule_set_version = :version"
        " LIMIT 1").columns(sa.column("rule_set_frozen", sa.JSON))
    update = sa.text(
        "UPDATE applications SET threshold = :threshold, threshold_source = :source"
        " WHERE rule_set_id = :id AND rule_set_version = :version").bindparams(
        sa.bindparam("threshold", type_=sa.Numeric(8, 2)))
    for rule_set_id, version in versions:
        threshold, source = None, "file"
        for key in (f"{rule_set_id}@{version}", rule_set_id):
            if key in overrides:
                threshold, source = overrides[key], key
                break
        else:
            copy = connection.execute(frozen, {"id": rule_set_id, "version": version}).scalar()
            threshold = (copy or {}).get("threshold")
        connection.execute(update, {"threshold": None if threshold is None else Decimal(str(threshold)), "source": source,
                                    "id": rule_set_id, "version": version})


def downgrade():
    with op.batch_alter_table('rescores', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rescores_application_id'))
    op.drop_table('rescores')
    with op.batch_alter_table('score_sheets', schema=None) as batch_op:
        batch_op.drop_column('not_applicable')
        batch_op.drop_column('answer_texts')
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.drop_column('self_result')
        batch_op.drop_column('not_applicable')
        batch_op.drop_column('answer_texts')
        batch_op.drop_column('threshold_source')
        batch_op.drop_column('threshold')
