"""Loads wallet_card_charge again: its `card.charged` event is now recorded by the kernel's
core_webhook_event_record (core/migrations/0004), the one SQL copy of the rule of who is told."""

from pathlib import Path

from django.db import migrations

SQL = Path(__file__).resolve().parent.parent / "sql"


class Migration(migrations.Migration):
    dependencies = [
        ("wallet", "0008_merge_terminal_management"),
        ("core", "0004_webhook_event_record_function"),
    ]

    operations = [migrations.RunSQL(sql=(SQL / "card_charge.pg.sql").read_text(), reverse_sql=migrations.RunSQL.noop)]
