"""Zero-carbon construction pilots: their yearly progress reports, and the department's
mid-term review and final acceptance of each pilot.

Revision ID: 9e4b2d7c5a13
Revises: 9aeec2ed25ad
Create Date: 2026-12-06 22:44:04.522813

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '9e4b2d7c5a13'
down_revision = '9aeec2ed25ad'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('pilot_reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('period', sa.Date(), nullable=False),
    sa.Column('values', sa.JSON(), nullable=False),
    sa.Column('base_values', sa.JSON(), nullable=False),
    sa.Column('narrative', sa.Text(), nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('submitted_by_id', sa.Integer(), nullable=False),
    sa.Column('is_late', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'], name=op.f('fk_pilot_reports_application_id_applications')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_pilot_reports_organisation_id_organisations')),
    sa.ForeignKeyConstraint(['submitted_by_id'], ['users.id'], name=op.f('fk_pilot_reports_submitted_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pilot_reports')),
    sa.UniqueConstraint('application_id', 'period', name='uq_pilot_reports_application_period')
    )
    with op.batch_alter_table('pilot_reports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pilot_reports_application_id'), ['application_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_pilot_reports_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_pilot_reports_period'), ['period'], unique=False)

    op.create_table('pilots',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('under_construction', 'removed', 'accepted', 'refused', name='pilot_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('midterm_decision', sa.Enum('continue', 'remove', name='pilot_midterm_decision', native_enum=False, create_constraint=True), nullable=True),
    sa.Column('midterm_reason', sa.Text(), nullable=False),
    sa.Column('midterm_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('midterm_by_id', sa.Integer(), nullable=True),
    sa.Column('final_figures', sa.JSON(), nullable=False),
    sa.Column('final_indicator_id', sa.String(length=80), nullable=False),
    sa.Column('final_value', sa.String(length=40), nullable=False),
    sa.Column('final_threshold', sa.String(length=40), nullable=False),
    sa.Column('acceptance_note', sa.Text(), nullable=False),
    sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('accepted_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status NOT IN ('accepted', 'refused') OR accepted_at IS NOT NULL", name=op.f('ck_pilots_acceptance_at_set')),
    sa.CheckConstraint('midterm_decision IS NULL OR midterm_at IS NOT NULL', name=op.f('ck_pilots_midterm_at_set')),
    sa.ForeignKeyConstraint(['accepted_by_id'], ['users.id'], name=op.f('fk_pilots_accepted_by_id_users')),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'], name=op.f('fk_pilots_application_id_applications')),
    sa.ForeignKeyConstraint(['midterm_by_id'], ['users.id'], name=op.f('fk_pilots_midterm_by_id_users')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_pilots_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pilots')),
    sa.UniqueConstraint('application_id', name=op.f('uq_pilots_application_id'))
    )
    with op.batch_alter_table('pilots', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pilots_organisation_id'), ['organisation_id'], unique=False)



def downgrade():
    with op.batch_alter_table('pilots', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pilots_organisation_id'))

    op.drop_table('pilots')
    with op.batch_alter_table('pilot_reports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pilot_reports_period'))
        batch_op.drop_index(batch_op.f('ix_pilot_reports_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_pilot_reports_application_id'))

    op.drop_table('pilot_reports')
