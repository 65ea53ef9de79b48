"""portfolio exports and their jobs

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27

``export``: each rendered PDF, under the hash of everything it shows (the cache key),
with the verification code printed on its cover and the SHA-256 of its bytes and of its
embedded data, which is all the verify page needs. ``export_job``: a request for a PDF
or a cohort's zip, its state and progress.

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('export',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('intern_id', sa.Integer(), nullable=False),
    sa.Column('scope', sa.Enum('everything', 'approved', name='scope', native_enum=False, length=32), nullable=False),
    sa.Column('locale', sa.String(length=35), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('verification_code', sa.String(length=32), nullable=False),
    sa.Column('pdf_sha256', sa.String(length=64), nullable=False),
    sa.Column('data_sha256', sa.String(length=64), nullable=False),
    sa.Column('file_name', sa.String(length=100), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('pages', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['course_id'], ['course.id'], name=op.f('fk_export_course_id_course'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['intern_id'], ['user.id'], name=op.f('fk_export_intern_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_export')),
    sa.UniqueConstraint('content_hash', name=op.f('uq_export_content_hash')),
    sa.UniqueConstraint('verification_code', name=op.f('uq_export_verification_code'))
    )
    with op.batch_alter_table('export', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_export_course_id'), ['course_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_export_intern_id'), ['intern_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_export_pdf_sha256'), ['pdf_sha256'], unique=False)

    op.create_table('export_job',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=False),
    sa.Column('intern_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.Enum('portfolio', 'cohort', name='jobkind', native_enum=False, length=32), nullable=False),
    sa.Column('scope', sa.Enum('everything', 'approved', name='scope', native_enum=False, length=32), nullable=False),
    sa.Column('state', sa.Enum('queued', 'running', 'done', 'failed', name='jobstate', native_enum=False, length=32), nullable=False),
    sa.Column('progress', sa.Integer(), nullable=False),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('content_hash', sa.String(length=64), nullable=True),
    sa.Column('export_id', sa.Integer(), nullable=True),
    sa.Column('file_name', sa.String(length=100), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['course_id'], ['course.id'], name=op.f('fk_export_job_course_id_course'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['export_id'], ['export.id'], name=op.f('fk_export_job_export_id_export'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['intern_id'], ['user.id'], name=op.f('fk_export_job_intern_id_user'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['requested_by_id'], ['user.id'], name=op.f('fk_export_job_requested_by_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_export_job'))
    )
    with op.batch_alter_table('export_job', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_export_job_content_hash'), ['content_hash'], unique=False)
        batch_op.create_index(batch_op.f('ix_export_job_course_id'), ['course_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_export_job_requested_by_id'), ['requested_by_id'], unique=False)


def downgrade():
    with op.batch_alter_table('export_job', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_export_job_requested_by_id'))
        batch_op.drop_index(batch_op.f('ix_export_job_course_id'))
        batch_op.drop_index(batch_op.f('ix_export_job_content_hash'))

    op.drop_table('export_job')
    with op.batch_alter_table('export', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_export_pdf_sha256'))
        batch_op.drop_index(batch_op.f('ix_export_intern_id'))
        batch_op.drop_index(batch_op.f('ix_export_course_id'))

    op.drop_table('export')
