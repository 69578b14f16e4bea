"""The sign-up as one PL/pgSQL function, kept as SQL in events/sql/signup_sign.pg.sql.

As wallet/migrations/0006: the SQL is read from its file here, so it stays readable as SQL and
versioned with the schema. A change to the file comes with a new migration that loads it again
(CREATE OR REPLACE); dropping is the reverse.
"""

from pathlib import Path

from django.db import migrations

SQL = Path(__file__).resolve().parent.parent / "sql" / "signup_sign.pg.sql"


class Migration(migrations.Migration):
    dependencies = [
        ("events", "0004_merge_chain_per_event_and_deidentification"),
        ("guardians", "0004_student_leaver"),
        ("core", "0004_webhook_event_record_function"),  # the outbox, and the webhook function it calls
    ]

    operations = [
        migrations.RunSQL(
            sql=SQL.read_text(),
            reverse_sql=(
                "DROP FUNCTION IF EXISTS events_signup_sign(bigint, bigint, bigint, text, timestamptz, timestamptz, jsonb, jsonb,"
                " bigint, date, text[], text[], text[], jsonb, bytea, text[], text, text, timestamptz, text, text);"
            ),
        ),
    ]
