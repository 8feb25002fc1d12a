"""On PostgreSQL, an index for the history's full-text search of prompts
(`GenerationQuerySet.matching`): the same expression the search uses, so the planner can
serve it. SQLite has no such index, and this migration does nothing there."""

from django.db import migrations

PROMPT_FULL_TEXT_INDEX = (
    'CREATE INDEX IF NOT EXISTS "generation_prompt_fts" ON "studio_generation" '
    "USING gin (to_tsvector('english'::regconfig, \"prompt\"))"
)


def add_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PROMPT_FULL_TEXT_INDEX)


def remove_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute('DROP INDEX IF EXISTS "generation_prompt_fts"')


class Migration(migrations.Migration):
    dependencies = [("studio", "0009_generation_seed_used")]

    operations = [migrations.RunPython(add_index, remove_index)]
