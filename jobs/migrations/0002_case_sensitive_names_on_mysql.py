"""Keep job names and usernames case-sensitive on MySQL/MariaDB (as on SQLite and PostgreSQL: `Job` and `job` are two jobs).

Their default collations compare case-insensitively, so the unique index would
refuse "Job" next to "job". Other backends already compare case-sensitively.
"""

from django.db import migrations

STATEMENTS = (
    "ALTER TABLE jobs MODIFY name VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL",
    "ALTER TABLE users MODIFY username VARCHAR(80) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL",
)


def to_binary_collation(apps, schema_editor):
    if schema_editor.connection.vendor != "mysql":
        return
    for statement in STATEMENTS:
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    atomic = False  # MySQL cannot roll back DDL; Django refuses DDL inside a transaction there
    dependencies = [("jobs", "0001_initial"), ("accounts", "0001_initial")]
    operations = [migrations.RunPython(to_binary_collation, migrations.RunPython.noop)]
