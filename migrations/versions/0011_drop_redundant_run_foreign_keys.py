"""drop the run foreign keys of hints and trainings

A duplicate hint and a training belong to their run through their staged row, whose foreign
key already cascades a deleted run to them; their own key to the run was checked once more for
every hint and training written (about 4 us a row: 1.3 s of PostgreSQL time for the ~350k
hints of 100k rows). The columns and their indexes stay.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-28 04:20:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('legacy_duplicate_hints', schema=None) as batch_op:
        batch_op.drop_constraint('fk_legacy_duplicate_hints_import_run_id_legacy_import_runs', type_='foreignkey')
    with op.batch_alter_table('legacy_training_imports', schema=None) as batch_op:
        batch_op.drop_constraint('fk_legacy_training_imports_import_run_id_legacy_import_runs', type_='foreignkey')


def downgrade():
    with op.batch_alter_table('legacy_training_imports', schema=None) as batch_op:
        batch_op.create_foreign_key('fk_legacy_training_imports_import_run_id_legacy_import_runs', 'legacy_import_runs', ['import_run_id'], ['id'], ondelete='CASCADE')
    with op.batch_alter_table('legacy_duplicate_hints', schema=None) as batch_op:
        batch_op.create_foreign_key('fk_legacy_duplicate_hints_import_run_id_legacy_import_runs', 'legacy_import_runs', ['import_run_id'], ['id'], ondelete='CASCADE')
