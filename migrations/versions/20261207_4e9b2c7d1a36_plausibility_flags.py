"""Plausibility flags: what the checks on reported figures found on a submitted self-assessment or
self-declaration, and who cleared each with what reason.

Revision ID: 4e9b2c7d1a36
Revises: 9e4b2d7c5a13
Create Date: 2026-12-07 00:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '4e9b2c7d1a36'
down_revision = '9e4b2d7c5a13'
branch_labels = None
depends_on = None

RULES = ('identity', 'share_mismatch', 'shared_quantity', 'unit_slip', 'jump', 'beyond_limit',
         'percentage_range', 'part_exceeds_whole')


def upgrade():
    op.create_table(
        'plausibility_flags',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('application_id', sa.Integer(), nullable=False),
        sa.Column('submission_id', sa.Integer(), nullable=True),
        sa.Column('declaration_id', sa.Integer(), nullable=True),
        sa.Column('rule', sa.Enum(*RULES, name='plausibility_rule', native_enum=False, create_constraint=True,
                                  length=max(len(rule) for rule in RULES)), nullable=False),
        sa.Column('indicator_ids', sa.JSON(), nullable=False),
        sa.Column('figures', sa.JSON(), nullable=False),
        sa.Column('details', sa.JSON(), nullable=False),
        sa.Column('raised_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('cleared_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('cleared_by_id', sa.Integer(), nullable=True),
        sa.Column('clear_reason', sa.Text(), nullable=False),
        sa.CheckConstraint("(submission_id IS NULL AND declaration_id IS NOT NULL) OR "
                           "(submission_id IS NOT NULL AND declaration_id IS NULL)",
                           name=op.f('ck_plausibility_flags_one_subject')),
        sa.CheckConstraint("(cleared_at IS NULL AND cleared_by_id IS NULL AND clear_reason = '') OR "
                           "(cleared_at IS NOT NULL AND clear_reason != '')",
                           name=op.f('ck_plausibility_flags_cleared_with_reason')),
        sa.ForeignKeyConstraint(['application_id'], ['applications.id'],
                                name=op.f('fk_plausibility_flags_application_id_applications')),
        sa.ForeignKeyConstraint(['submission_id'], ['submissions.id'],
                                name=op.f('fk_plausibility_flags_submission_id_submissions')),
        sa.ForeignKeyConstraint(['declaration_id'], ['declarations.id'],
                                name=op.f('fk_plausibility_flags_declaration_id_declarations')),
        sa.ForeignKeyConstraint(['cleared_by_id'], ['users.id'],
                                name=op.f('fk_plausibility_flags_cleared_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_plausibility_flags')),
    )
    with op.batch_alter_table('plausibility_flags', schema=None) as batch_op:
        batch_op.create_index('ix_plausibility_flags_application_cleared', ['application_id', 'cleared_at'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_plausibility_flags_submission_id'), ['submission_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_plausibility_flags_declaration_id'), ['declaration_id'], unique=False)


def downgrade():
    with op.batch_alter_table('plausibility_flags', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_plausibility_flags_declaration_id'))
        batch_op.drop_index(batch_op.f('ix_plausibility_flags_submission_id'))
        batch_op.drop_index('ix_plausibility_flags_application_cleared')
    op.drop_table('plausibility_flags')
