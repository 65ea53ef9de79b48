"""objectives, placements, journal entries, tasks, evidence

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27

The intern's side: objective frameworks per course, one placement per intern per course,
weekly entries (one row per revision) with tasks tied to objectives, and evidence files.

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('intern_id', sa.Integer(), nullable=False),
    sa.Column('week_start', sa.Date(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('state', sa.Enum('draft', 'submitted', 'changes_requested', 'approved', name='entrystate', native_enum=False, length=32), nullable=False),
    sa.Column('reflection', sa.Text(), nullable=False),
    sa.Column('reflection_html', sa.Text(), nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decision_comment', sa.Text(), nullable=True),
    sa.Column('autosaved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['course_id'], ['course.id'], name=op.f('fk_entry_course_id_course'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['decided_by_id'], ['user.id'], name=op.f('fk_entry_decided_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['intern_id'], ['user.id'], name=op.f('fk_entry_intern_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_entry')),
    sa.UniqueConstraint('course_id', 'intern_id', 'week_start', 'revision', name=op.f('uq_entry_course_id_intern_id_week_start_revision'))
    )
    with op.batch_alter_table('entry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_entry_course_id'), ['course_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_entry_intern_id'), ['intern_id'], unique=False)

    op.create_table('objective',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('title', sa.String(length=255), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('area', sa.String(length=255), nullable=True),
    sa.Column('target', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('retired_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('target >= 1', name=op.f('ck_objective_target_positive')),
    sa.ForeignKeyConstraint(['course_id'], ['course.id'], name=op.f('fk_objective_course_id_course'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_objective')),
    sa.UniqueConstraint('course_id', 'code', name=op.f('uq_objective_course_id_code'))
    )
    with op.batch_alter_table('objective', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_objective_course_id'), ['course_id'], unique=False)

    op.create_table('placement',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('intern_id', sa.Integer(), nullable=False),
    sa.Column('host_organisation', sa.String(length=255), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('city', sa.String(length=255), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=False),
    sa.Column('hours_per_week', sa.Numeric(precision=5, scale=2), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('work_language', sa.String(length=35), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('end_date >= start_date', name=op.f('ck_placement_dates_in_order')),
    sa.ForeignKeyConstraint(['course_id'], ['course.id'], name=op.f('fk_placement_course_id_course'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['intern_id'], ['user.id'], name=op.f('fk_placement_intern_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_placement')),
    sa.UniqueConstraint('course_id', 'intern_id', name=op.f('uq_placement_course_id_intern_id'))
    )
    with op.batch_alter_table('placement', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_placement_course_id'), ['course_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_placement_intern_id'), ['intern_id'], unique=False)

    op.create_table('evidence',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('original_name', sa.String(length=255), nullable=False),
    sa.Column('stored_name', sa.String(length=64), nullable=False),
    sa.Column('content_type', sa.String(length=127), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('thumbnail_name', sa.String(length=64), nullable=True),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['entry_id'], ['entry.id'], name=op.f('fk_evidence_entry_id_entry'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['user.id'], name=op.f('fk_evidence_uploaded_by_id_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evidence'))
    )
    with op.batch_alter_table('evidence', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_evidence_entry_id'), ['entry_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_evidence_stored_name'), ['stored_name'], unique=False)

    op.create_table('task',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('hours', sa.Numeric(precision=5, scale=2), nullable=False),
    sa.ForeignKeyConstraint(['entry_id'], ['entry.id'], name=op.f('fk_task_entry_id_entry'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_task'))
    )
    with op.batch_alter_table('task', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_task_entry_id'), ['entry_id'], unique=False)

    op.create_table('task_objective',
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('objective_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['objective_id'], ['objective.id'], name=op.f('fk_task_objective_objective_id_objective'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['task_id'], ['task.id'], name=op.f('fk_task_objective_task_id_task'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('task_id', 'objective_id', name=op.f('pk_task_objective'))
    )
    with op.batch_alter_table('task_objective', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_task_objective_objective_id'), ['objective_id'], unique=False)



def downgrade():
    with op.batch_alter_table('task_objective', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_task_objective_objective_id'))

    op.drop_table('task_objective')
    with op.batch_alter_table('task', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_task_entry_id'))

    op.drop_table('task')
    with op.batch_alter_table('evidence', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_evidence_stored_name'))
        batch_op.drop_index(batch_op.f('ix_evidence_entry_id'))

    op.drop_table('evidence')
    with op.batch_alter_table('placement', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_placement_intern_id'))
        batch_op.drop_index(batch_op.f('ix_placement_course_id'))

    op.drop_table('placement')
    with op.batch_alter_table('objective', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_objective_course_id'))

    op.drop_table('objective')
    with op.batch_alter_table('entry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_entry_intern_id'))
        batch_op.drop_index(batch_op.f('ix_entry_course_id'))

    op.drop_table('entry')
