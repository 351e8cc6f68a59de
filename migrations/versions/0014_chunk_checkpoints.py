"""chunk checkpoints: the last legacy id a chunk has staged, kept on the chunk

A chunk's checkpoint was read from its staged rows: the highest legacy id in its range. While
a run is staged its rows are in no statistics, and PostgreSQL took that look-up for one row
of any index starting with the run: it read every row of the table staged so far, once per
chunk, a cost that grows with the square of the run. Each batch now writes its last legacy id
on the chunk, in the batch's transaction, and the checkpoint reads it there. Chunks staged
before this revision get theirs from their rows.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-28 11:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('legacy_import_chunks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('staged_up_to', sa.BigInteger(), nullable=True))
    op.execute(
        """
        UPDATE legacy_import_chunks SET staged_up_to = (
            SELECT max(s.legacy_id) FROM legacy_student_imports s
            WHERE s.import_run_id = legacy_import_chunks.import_run_id
              AND s.source_table = legacy_import_chunks.source_table
              AND s.legacy_id > legacy_import_chunks.after_id
              AND s.legacy_id <= legacy_import_chunks.up_to_id)
        """
    )


def downgrade():
    with op.batch_alter_table('legacy_import_chunks', schema=None) as batch_op:
        batch_op.drop_column('staged_up_to')
