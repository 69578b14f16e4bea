"""core_outbox_notify (core/sql/outbox_notify.pg.sql): every insert into core_outboxjob notifies the
relay at commit. Read from its file, as 0004 does."""

from pathlib import Path

from django.db import migrations

SQL = Path(__file__).resolve().parent.parent / "sql" / "outbox_notify.pg.sql"


class Migration(migrations.Migration):
    dependencies = [("core", "0004_webhook_event_record_function")]

    operations = [
        migrations.RunSQL(
            sql=SQL.read_text(),
            reverse_sql="DROP TRIGGER IF EXISTS core_outboxjob_notify ON core_outboxjob; DROP FUNCTION IF EXISTS core_outbox_notify();",
        )
    ]
