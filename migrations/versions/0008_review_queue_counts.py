"""review queue counts: the review queue's group counts, kept with the rows

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28 03:23:25.408030

One row per (run, reason, validation state, pending): how many rows of the run's review queue
give that reason (a row without a reason counts under its state's name). Validation and the
review actions keep it in step from now on (app/legacy_import/queue_counts.py); the existing
runs are counted here from their rows: one GROUP BY over the queue's partial index, a second or
so for a million staged rows.
"""
import json
from collections import Counter

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

QUEUE_STATES = ('needs_review', 'duplicate')


def upgrade():
    counts = op.create_table('legacy_review_queue_counts',
    sa.Column('import_run_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('reason', sa.String(length=64), nullable=False),
    sa.Column('validation_state', sa.String(length=20), nullable=False),
    sa.Column('pending', sa.Boolean(), nullable=False),
    sa.Column('row_count', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['import_run_id'], ['legacy_import_runs.id'], name=op.f('fk_legacy_review_queue_counts_import_run_id_legacy_import_runs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('import_run_id', 'reason', 'validation_state', 'pending', name=op.f('pk_legacy_review_queue_counts'))
    )
    op.bulk_insert(counts, [
        {'import_run_id': run_id, 'reason': reason, 'validation_state': state, 'pending': pending, 'row_count': n}
        for (run_id, reason, state, pending), n in sorted(counted_from_rows(op.get_bind()).items())
    ])


def counted_from_rows(bind):
    """Every run's group counts, as app/legacy_import/queue_counts.py counts them today."""
    students = sa.table(
        'legacy_student_imports',
        sa.column('import_run_id'), sa.column('validation_state'),
        sa.column('validation_reasons', sa.JSON), sa.column('review_decision'),
    )
    reasons = sa.cast(students.c.validation_reasons, sa.Text)
    pending = students.c.review_decision.is_(None)
    query = (
        sa.select(students.c.import_run_id, students.c.validation_state, reasons, pending, sa.func.count())
        .where(students.c.validation_state.in_(QUEUE_STATES))
        .group_by(students.c.import_run_id, students.c.validation_state, reasons, pending)
    )
    counts = Counter()
    for run_id, state, reasons_text, is_pending, n in bind.execute(query):
        value = json.loads(reasons_text) if reasons_text else None
        given = list(dict.fromkeys(str(r) for r in value)) if isinstance(value, list) else []
        for reason in given or [state]:
            counts[(run_id, reason, state, bool(is_pending))] += n
    return counts


def downgrade():
    op.drop_table('legacy_review_queue_counts')
