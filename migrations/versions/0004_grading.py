"""rubrics, grades, score deliveries

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27

A rubric per course (criteria, levels with points), one grade per intern and course
with a mark per criterion, and the outbox of scores bound for the LMS gradebook.

"""
from alembic import op
import sqlalchemy as sa



# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('grade',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('intern_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.Enum('draft', 'released', name='gradestate', native_enum=False, length=32), nullable=False),
    sa.Column('score', sa.Numeric(precision=8, scale=2, asdecimal=False), nullable=False),
    sa.Column('score_maximum', sa.Numeric(precision=8, scale=2, asdecimal=False), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('graded_by_id', sa.Integer(), nullable=True),
    sa.Column('released_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('released_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['course_id'], ['course.id'], name=op.f('fk_grade_course_id_course'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['graded_by_id'], ['user.id'], name=op.f('fk_grade_graded_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['intern_id'], ['user.id'], name=op.f('fk_grade_intern_id_user'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['released_by_id'], ['user.id'], name=op.f('fk_grade_released_by_id_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_grade')),
    sa.UniqueConstraint('course_id', 'intern_id', name=op.f('uq_grade_course_id_intern_id'))
    )
    with op.batch_alter_table('grade', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_grade_course_id'), ['course_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_grade_intern_id'), ['intern_id'], unique=False)

    op.create_table('rubric',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['course_id'], ['course.id'], name=op.f('fk_rubric_course_id_course'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rubric')),
    sa.UniqueConstraint('course_id', name=op.f('uq_rubric_course_id'))
    )
    op.create_table('rubric_criterion',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('rubric_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=255), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['rubric_id'], ['rubric.id'], name=op.f('fk_rubric_criterion_rubric_id_rubric'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rubric_criterion'))
    )
    with op.batch_alter_table('rubric_criterion', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rubric_criterion_rubric_id'), ['rubric_id'], unique=False)

    op.create_table('score_delivery',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('grade_id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.Enum('pending', 'sending', 'synced', 'failed', name='deliverystate', native_enum=False, length=32), nullable=False),
    sa.Column('score_given', sa.Numeric(precision=8, scale=2, asdecimal=False), nullable=False),
    sa.Column('score_maximum', sa.Numeric(precision=8, scale=2, asdecimal=False), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('timestamp', sa.DateTime(timezone=True), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_status', sa.Integer(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('receipt', sa.String(length=255), nullable=True),
    sa.Column('synced_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['course_id'], ['course.id'], name=op.f('fk_score_delivery_course_id_course'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['grade_id'], ['grade.id'], name=op.f('fk_score_delivery_grade_id_grade'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_score_delivery')),
    sa.UniqueConstraint('grade_id', name=op.f('uq_score_delivery_grade_id'))
    )
    with op.batch_alter_table('score_delivery', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_score_delivery_course_id'), ['course_id'], unique=False)
        batch_op.create_index('ix_score_delivery_due', ['state', 'next_attempt_at'], unique=False)

    op.create_table('rubric_level',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('criterion_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=255), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('points', sa.Numeric(precision=8, scale=2, asdecimal=False), nullable=False),
    sa.ForeignKeyConstraint(['criterion_id'], ['rubric_criterion.id'], name=op.f('fk_rubric_level_criterion_id_rubric_criterion'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rubric_level'))
    )
    with op.batch_alter_table('rubric_level', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rubric_level_criterion_id'), ['criterion_id'], unique=False)

    op.create_table('grade_mark',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('grade_id', sa.Integer(), nullable=False),
    sa.Column('criterion_id', sa.Integer(), nullable=False),
    sa.Column('level_id', sa.Integer(), nullable=True),
    sa.Column('feedback', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['criterion_id'], ['rubric_criterion.id'], name=op.f('fk_grade_mark_criterion_id_rubric_criterion'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['grade_id'], ['grade.id'], name=op.f('fk_grade_mark_grade_id_grade'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['level_id'], ['rubric_level.id'], name=op.f('fk_grade_mark_level_id_rubric_level'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_grade_mark')),
    sa.UniqueConstraint('grade_id', 'criterion_id', name=op.f('uq_grade_mark_grade_id_criterion_id'))
    )
    with op.batch_alter_table('grade_mark', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_grade_mark_criterion_id'), ['criterion_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_grade_mark_grade_id'), ['grade_id'], unique=False)



def downgrade():
    with op.batch_alter_table('grade_mark', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_grade_mark_grade_id'))
        batch_op.drop_index(batch_op.f('ix_grade_mark_criterion_id'))

    op.drop_table('grade_mark')
    with op.batch_alter_table('rubric_level', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rubric_level_criterion_id'))

    op.drop_table('rubric_level')
    with op.batch_alter_table('score_delivery', schema=None) as batch_op:
        batch_op.drop_index('ix_score_delivery_due')
        batch_op.drop_index(batch_op.f('ix_score_delivery_course_id'))

    op.drop_table('score_delivery')
    with op.batch_alter_table('rubric_criterion', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rubric_criterion_rubric_id'))

    op.drop_table('rubric_criterion')
    op.drop_table('rubric')
    with op.batch_alter_table('grade', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_grade_intern_id'))
        batch_op.drop_index(batch_op.f('ix_grade_course_id'))

    op.drop_table('grade')
