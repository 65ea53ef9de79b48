"""The cohort dashboard's figures per intern, kept between views

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-28

``intern_standing``: one row per course and intern with the dashboard's figures, the
journal version they were computed from and until when they hold. Derived data: it is
rebuilt from the journal whenever it is missing or out of date.

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('intern_standing',
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('intern_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), server_default='0', nullable=False),
    sa.Column('computed_version', sa.Integer(), nullable=True),
    sa.Column('valid_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('approved', sa.Integer(), server_default='0', nullable=False),
    sa.Column('submitted', sa.Integer(), server_default='0', nullable=False),
    sa.Column('missing', sa.Integer(), server_default='0', nullable=False),
    sa.Column('waiting_since', sa.DateTime(timezone=True), nullable=True),
    sa.Column('hours_logged', sa.Numeric(precision=10, scale=2), server_default='0', nullable=False),
    sa.Column('hours_expected', sa.Numeric(precision=10, scale=2), server_default='0', nullable=False),
    sa.Column('coverage', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['course_id'], ['course.id'], name=op.f('fk_intern_standing_course_id_course'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['intern_id'], ['user.id'], name=op.f('fk_intern_standing_intern_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('course_id', 'intern_id', name=op.f('pk_intern_standing'))
    )
    with op.batch_alter_table('intern_standing', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_intern_standing_intern_id'), ['intern_id'], unique=False)


def downgrade():
    with op.batch_alter_table('intern_standing', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_intern_standing_intern_id'))

    op.drop_table('intern_standing')
