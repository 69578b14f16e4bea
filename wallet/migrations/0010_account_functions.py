"""The account helpers the database functions share (wallet/sql/accounts.pg.sql): an account opened on
first use, and accounts locked with their expired holds voided. Loaded as wallet/migrations/0006 loads
the money functions; a change to the file comes with a new migration that loads it again."""

from pathlib import Path

from django.db import migrations

SQL = Path(__file__).resolve().parent.parent / "sql" / "accounts.pg.sql"


class Migration(migrations.Migration):
    dependencies = [("wallet", "0009_card_charge_shared_webhook_record")]

    operations = [
        migrations.RunSQL(
            sql=SQL.read_text(),
            reverse_sql=(
                "DROP FUNCTION IF EXISTS wallet_accounts_lock(bigint[], timestamptz);"
                " DROP FUNCTION IF EXISTS wallet_account_of(text, bigint, timestamptz);"
            ),
        ),
    ]
