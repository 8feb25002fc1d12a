"""Indexes for the history: one per filter in the page's order, and on PostgreSQL a
trigram index for the prompt search.

The trigram index is PostgreSQL's alone (SQLite has no GIN), so it lives here and not in
Generation.Meta, which cannot differ by database: the operation that makes it does
nothing on SQLite and leaves the migration state alone.
"""

from django.db import migrations, models

# Django's icontains on PostgreSQL is `UPPER(prompt) LIKE UPPER('%words%')`: an index on
# the same expression serves it. Written out, since django.contrib.postgres's OpClass
# needs that app installed to render inside an index.
PROMPT_TRIGRAMS = (
    'CREATE INDEX IF NOT EXISTS "generation_prompt_trgm" ON "studio_generation" '
    'USING gin (UPPER("prompt") gin_trgm_ops)'
)


def add_prompt_trigrams(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        # pg_trgm is a trusted extension: the database's owner may create it.
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        schema_editor.execute(PROMPT_TRIGRAMS)
        # The planner picks between this index (few matches) and reading the team's
        # newest rows until 25 match (many); the default statistics cannot tell a word
        # in 1% of prompts from one in 0.01%, and the wrong pick reads the whole team.
        schema_editor.execute(
            'ALTER INDEX "generation_prompt_trgm" ALTER COLUMN 1 SET STATISTICS 1000'
        )


def remove_prompt_trigrams(apps, schema_editor):
    # The extension stays: something else in the database may use it by then.
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute('DROP INDEX IF EXISTS "generation_prompt_trgm"')


class Migration(migrations.Migration):
    dependencies = [
        ("studio", "0005_preview_url"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="generation",
            index=models.Index(fields=["team", "-created_at", "-id"], name="generation_team_newest"),
        ),
        migrations.RemoveIndex(
            model_name="generation",
            name="studio_gene_team_id_8bed8c_idx",
        ),
        migrations.AddIndex(
            model_name="generation",
            index=models.Index(
                fields=["team", "author", "-created_at", "-id"], name="generation_author_newest"
            ),
        ),
        migrations.AddIndex(
            model_name="generation",
            index=models.Index(
                fields=["team", "state", "-created_at", "-id"], name="generation_state_newest"
            ),
        ),
        migrations.AddIndex(
            model_name="generation",
            index=models.Index(
                fields=["team", "model", "-created_at", "-id"], name="generation_model_newest"
            ),
        ),
        migrations.AddIndex(
            model_name="generation",
            index=models.Index(
                fields=["team", "kind", "-created_at", "-id"], name="generation_kind_newest"
            ),
        ),
        migrations.RunPython(add_prompt_trigrams, remove_prompt_trigrams),
    ]
