"""Migration operations of the project's own (imported by migrations, never by running code)."""

from __future__ import annotations

from django.db.migrations.operations.base import Operation


class DropLikeIndexes(Operation):
    """A migration operation: on PostgreSQL, drop the ``varchar_pattern_ops`` twin (``…_like``)
    that Django builds beside the index of every indexed ``varchar`` column.

    Those twins serve only ``LIKE 'prefix%'`` lookups, which nothing makes on ids, yet every
    insert writes them, and every update that changes an indexed column of the row too (a
    scheduler burst inserts and updates thousands of run rows). Elsewhere nothing happens
    (only PostgreSQL builds them). Reversing builds them again, as Django does. A later
    migration that alters one of these fields may build its twin again (Django's own
    ``AlterField``): repeat this operation after it.
    """

    reduces_to_sql = True
    reversible = True

    def __init__(self, model_name: str, fields: list[str]):
        self.model_name = model_name
        self.fields = fields

    def deconstruct(self):
        return self.__class__.__qualname__, [], {"model_name": self.model_name, "fields": self.fields}

    def state_forwards(self, app_label, state):
        pass  # the models do not change

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            return
        model = to_state.apps.get_model(app_label, self.model_name)
        for name in self.fields:
            column = model._meta.get_field(name).column
            index = schema_editor._create_index_name(model._meta.db_table, [column], suffix="_like")
            schema_editor.execute(schema_editor._delete_index_sql(model, index))  # DROP INDEX IF EXISTS

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            return
        model = to_state.apps.get_model(app_label, self.model_name)
        for name in self.fields:
            statement = schema_editor._create_like_index_sql(model, model._meta.get_field(name))
            if statement is not None:
                schema_editor.execute(statement)

    def describe(self):
        return f"Drop the LIKE indexes of {', '.join(self.fields)} on {self.model_name} (PostgreSQL)"

    @property
    def migration_name_fragment(self):
        return f"drop_like_indexes_{self.model_name.lower()}"
