"""privacy: notice acknowledgements, retention per course, archive files

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27

``privacy_acknowledgement``: who acknowledged which version of the privacy notice, and
when. ``course_retention``: how many days after the course's end its personal data is
kept, the end date an admin set when the placements do not tell it, and when retention
archived and purged the course. ``course_archive``: the files (an intern's portfolio PDF,
their data zip) archived under the storage before the purge; they name the intern by
number only, so the list outlives the people's rows.

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('privacy_acknowledgement',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.String(length=32), nullable=False),
    sa.Column('acknowledged_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_privacy_acknowledgement_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_privacy_acknowledgement')),
    sa.UniqueConstraint('user_id', 'version', name=op.f('uq_privacy_acknowledgement_user_id_version'))
    )
    with op.batch_alter_table('privacy_acknowledgement', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_privacy_acknowledgement_user_id'), ['user_id'], unique=False)

    op.create_table('course_retention',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('keep_days', sa.Integer(), nullable=False),
    sa.Column('course_end', sa.Date(), nullable=True),
    sa.Column('archived_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('purged_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['course_id'], ['course.id'], name=op.f('fk_course_retention_course_id_course'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_course_retention')),
    sa.UniqueConstraint('course_id', name=op.f('uq_course_retention_course_id'))
    )

    op.create_table('course_archive',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('intern_ref', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('file_name', sa.String(length=255), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('note', sa.String(length=255), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['course_id'], ['course.id'], name=op.f('fk_course_archive_course_id_course'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_course_archive'))
    )
    with op.batch_alter_table('course_archive', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_course_archive_course_id'), ['course_id'], unique=False)


def downgrade():
    with op.batch_alter_table('course_archive', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_course_archive_course_id'))
    op.drop_table('course_archive')
    op.drop_table('course_retention')
    with op.batch_alter_table('privacy_acknowledgement', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_privacy_acknowledgement_user_id'))
    op.drop_table('privacy_acknowledgement')
