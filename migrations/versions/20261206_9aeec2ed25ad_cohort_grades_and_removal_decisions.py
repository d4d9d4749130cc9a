"""Cohort grades (企业绿码) kept as history: a grading run per closed period graded (with the
settings used) and each unit's result in it; the department's decisions on parks proposed for
removal (bottom share several years in a row).

Revision ID: 9aeec2ed25ad
Revises: c3e8a5f1d692
Create Date: 2026-12-06 22:37:22.502307

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '9aeec2ed25ad'
down_revision = 'c3e8a5f1d692'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('grading_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('period', sa.Date(), nullable=False),
    sa.Column('run_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('run_by_id', sa.Integer(), nullable=True),
    sa.Column('settings', sa.JSON(), nullable=False),
    sa.Column('units_count', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['run_by_id'], ['users.id'], name=op.f('fk_grading_runs_run_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_grading_runs'))
    )
    with op.batch_alter_table('grading_runs', schema=None) as batch_op:
        batch_op.create_index('ix_grading_runs_period_run_at', ['period', 'run_at'], unique=False)

    op.create_table('removal_decisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('last_year', sa.Integer(), nullable=False),
    sa.Column('decision', sa.String(length=10), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('figures', sa.JSON(), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("decision IN ('keep', 'remove')", name=op.f('ck_removal_decisions_decision_known')),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'], name=op.f('fk_removal_decisions_application_id_applications')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_removal_decisions_decided_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_removal_decisions')),
    sa.UniqueConstraint('application_id', 'last_year', name='uq_removal_decisions_application_year')
    )
    with op.batch_alter_table('removal_decisions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_removal_decisions_application_id'), ['application_id'], unique=False)

    op.create_table('unit_grades',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('cohort', sa.String(length=80), nullable=False),
    sa.Column('cohort_size', sa.Integer(), nullable=False),
    sa.Column('outcome', sa.Enum('graded', 'small_cohort', 'withheld', 'no_values', 'not_declared', name='grade_outcome', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('grade', sa.Enum('a_plus', 'a', 'b', name='cohort_grade', native_enum=False, create_constraint=True), nullable=True),
    sa.Column('composite', sa.Numeric(precision=9, scale=6), nullable=True),
    sa.Column('rank', sa.Integer(), nullable=True),
    sa.Column('tied_at_boundary', sa.Boolean(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.CheckConstraint("(outcome = 'graded') = (grade IS NOT NULL)", name=op.f('ck_unit_grades_grade_iff_graded')),
    sa.CheckConstraint("outcome NOT IN ('graded', 'small_cohort') OR (composite IS NOT NULL AND rank IS NOT NULL)", name=op.f('ck_unit_grades_ranked_when_compared')),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'], name=op.f('fk_unit_grades_application_id_applications')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_unit_grades_organisation_id_organisations')),
    sa.ForeignKeyConstraint(['run_id'], ['grading_runs.id'], name=op.f('fk_unit_grades_run_id_grading_runs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_unit_grades')),
    sa.UniqueConstraint('run_id', 'application_id', name='uq_unit_grades_run_application')
    )
    with op.batch_alter_table('unit_grades', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_unit_grades_application_id'), ['application_id'], unique=False)
        batch_op.create_index('ix_unit_grades_organisation', ['organisation_id'], unique=False)
        batch_op.create_index('ix_unit_grades_run_cohort', ['run_id', 'cohort'], unique=False)



def downgrade():
    with op.batch_alter_table('unit_grades', schema=None) as batch_op:
        batch_op.drop_index('ix_unit_grades_run_cohort')
        batch_op.drop_index('ix_unit_grades_organisation')
        batch_op.drop_index(batch_op.f('ix_unit_grades_application_id'))

    op.drop_table('unit_grades')
    with op.batch_alter_table('removal_decisions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_removal_decisions_application_id'))

    op.drop_table('removal_decisions')
    with op.batch_alter_table('grading_runs', schema=None) as batch_op:
        batch_op.drop_index('ix_grading_runs_period_run_at')

    op.drop_table('grading_runs')
