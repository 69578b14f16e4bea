"""Loads wallet_card_charge and wallet_card_transfer again: a NULL p_lock_timeout (the setting at 0, as
behind PgBouncer) now sets nothing, so the role's lock_timeout applies instead of none at all."""

from pathlib import Path

from django.db import migrations

SQL = Path(__file__).resolve().parent.parent / "sql"


class Migration(migrations.Migration):
    dependencies = [("wallet", "0010_account_functions")]

    operations = [
        migrations.RunSQL(sql=(SQL / "card_charge.pg.sql").read_text(), reverse_sql=migrations.RunSQL.noop),
        migrations.RunSQL(sql=(SQL / "card_transfer.pg.sql").read_text(), reverse_sql=migrations.RunSQL.noop),
    ]
