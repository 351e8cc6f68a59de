"""staging cascades by trigger: no foreign key checked for every staged row, training and hint

A staged row's key to its run, and the key of its training and of its duplicate hints to it,
were checked once for every row written: a look-up and a row lock on the parent each time.
On PostgreSQL that was about a third of the database's work in an import (measured on 100k
rows: the run key ~1.1 s, the training key ~0.9 s once the training is written by COPY) and
~1.3 s of validation's for the ~350k hints. These rows are written only by the import and by
validation, from the run and rows they hold, so the check never failed; what the keys also
did, cascade a deleted run to its rows and a deleted row to its training and hints, is now
done by triggers:

* PostgreSQL: one statement-level trigger per table, over the deleted rows' transition table;
* SQLite: the same as row-level triggers.

The other keys to a staged row (commit logs, completed trainings: written one per committed
row) and the mappings' keys to their run stay.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-28 06:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

STUDENTS = 'legacy_student_imports'
# (table, column, parent table, name the naming convention gave the key)
KEYS = (
    (STUDENTS, 'import_run_id', 'legacy_import_runs', 'fk_legacy_student_imports_import_run_id_legacy_import_runs'),
    (
        'legacy_training_imports',
        'student_import_id',
        STUDENTS,
        'fk_legacy_training_imports_student_import_id_legacy_student_imports',
    ),
    (
        'legacy_duplicate_hints',
        'student_import_id',
        STUDENTS,
        'fk_legacy_duplicate_hints_student_import_id_legacy_student_imports',
    ),
)
# SQLite rebuilds a table to drop a key and cannot reflect this expression index (0010), so it
# is made again afterwards.
NAME_INDEX = 'ix_legacy_student_imports_spaced_name_key_trgm'

POSTGRESQL_TRIGGERS = """
CREATE FUNCTION legacy_import_runs_delete_staged_rows() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM legacy_student_imports s USING deleted_runs r WHERE s.import_run_id = r.id;
    RETURN NULL;
END $$;
CREATE TRIGGER legacy_import_runs_delete_staged_rows AFTER DELETE ON legacy_import_runs
    REFERENCING OLD TABLE AS deleted_runs
    FOR EACH STATEMENT EXECUTE FUNCTION legacy_import_runs_delete_staged_rows();

CREATE FUNCTION legacy_student_imports_delete_children() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM legacy_training_imports t USING deleted_rows d WHERE t.student_import_id = d.id;
    DELETE FROM legacy_duplicate_hints h USING deleted_rows d WHERE h.student_import_id = d.id;
    RETURN NULL;
END $$;
CREATE TRIGGER legacy_student_imports_delete_children AFTER DELETE ON legacy_student_imports
    REFERENCING OLD TABLE AS deleted_rows
    FOR EACH STATEMENT EXECUTE FUNCTION legacy_student_imports_delete_children();
"""

SQLITE_TRIGGERS = (
    """
    CREATE TRIGGER legacy_import_runs_delete_staged_rows AFTER DELETE ON legacy_import_runs
    BEGIN
        DELETE FROM legacy_student_imports WHERE import_run_id = OLD.id;
    END
    """,
    """
    CREATE TRIGGER legacy_student_imports_delete_children AFTER DELETE ON legacy_student_imports
    BEGIN
        DELETE FROM legacy_training_imports WHERE student_import_id = OLD.id;
        DELETE FROM legacy_duplicate_hints WHERE student_import_id = OLD.id;
    END
    """,
)

DROP_TRIGGERS = {
    'postgresql': (
        'DROP TRIGGER legacy_student_imports_delete_children ON legacy_student_imports',
        'DROP FUNCTION legacy_student_imports_delete_children()',
        'DROP TRIGGER legacy_import_runs_delete_staged_rows ON legacy_import_runs',
        'DROP FUNCTION legacy_import_runs_delete_staged_rows()',
    ),
    'sqlite': (
        'DROP TRIGGER legacy_student_imports_delete_children',
        'DROP TRIGGER legacy_import_runs_delete_staged_rows',
    ),
}


def upgrade():
    sqlite = op.get_bind().dialect.name == 'sqlite'
    if sqlite:
        op.drop_index(NAME_INDEX, table_name=STUDENTS)
    for table, column, parent, _ in KEYS:
        name = _key_name(table, column, parent)
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(name, type_='foreignkey')
    if sqlite:
        _create_name_index()
        for statement in SQLITE_TRIGGERS:
            op.execute(statement)
    else:
        op.execute(POSTGRESQL_TRIGGERS)


def downgrade():
    sqlite = op.get_bind().dialect.name == 'sqlite'
    for statement in DROP_TRIGGERS['sqlite' if sqlite else 'postgresql']:
        op.execute(statement)
    if sqlite:
        op.drop_index(NAME_INDEX, table_name=STUDENTS)
    for table, column, parent, name in KEYS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_foreign_key(batch_op.f(name), parent, [column], ['id'], ondelete='CASCADE')
    if sqlite:
        _create_name_index()


def _key_name(table, column, parent):
    """The key's name as the database has it (PostgreSQL shortened the longer ones)."""
    for key in sa.inspect(op.get_bind()).get_foreign_keys(table):
        if key['constrained_columns'] == [column] and key['referred_table'] == parent:
            return key['name']
    raise RuntimeError(f'{table}.{column} has no foreign key to {parent}')


def _create_name_index():
    op.create_index(
        NAME_INDEX,
        STUDENTS,
        [sa.literal_column("(' ' || name_key)").label('spaced_name_key')],
        unique=False,
        postgresql_using='gin',
        postgresql_ops={'spaced_name_key': 'gin_trgm_ops'},
    )
