"""core_webhook_event_record (core/sql/webhook_event_record.pg.sql): the webhook event and its
deliveries, for the database functions that decide and write in one call. Read from its file, as
wallet/migrations/0006 does; a change to the file comes with a migration that loads it again."""

from pathlib import Path

from django.db import migrations

SQL = Path(__file__).resolve().parent.parent / "sql" / "webhook_event_record.pg.sql"


class Migration(migrations.Migration):
    dependencies = [("core", "0003_webhook_secrets_standard")]

    operations = [
        migrations.RunSQL(
            sql=SQL.read_text(),
            reverse_sql="DROP FUNCTION IF EXISTS core_webhook_event_record(text, bigint, bigint, jsonb, timestamptz);",
        )
    ]
