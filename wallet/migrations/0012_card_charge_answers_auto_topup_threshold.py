"""Loads the account helpers again (wallet_accounts_lock now plans its lock once per connection) and
wallet_card_charge with a new column, `auto_topup_threshold`, from the new wallet_auto_topup_method_id
(wallet/sql/auto_topup.pg.sql): a sale no longer reads the automatic top-up after its commit.

A changed result type cannot be replaced in place, so the charge function is dropped first. Going
back leaves the new functions in place: the older code reads the charge's row by column name, so one
more column changes nothing for it."""

from pathlib import Path

from django.db import migrations

SQL = Path(__file__).resolve().parent.parent / "sql"


class Migration(migrations.Migration):
    dependencies = [("wallet", "0011_lock_timeout_when_configured")]

    operations = [
        migrations.RunSQL(sql=(SQL / "accounts.pg.sql").read_text(), reverse_sql=migrations.RunSQL.noop),
        migrations.RunSQL(sql=(SQL / "auto_topup.pg.sql").read_text(), reverse_sql=migrations.RunSQL.noop),
        migrations.RunSQL(
            sql="DROP FUNCTION IF EXISTS wallet_card_charge(bigint, bigint, text, bigint, jsonb, text, text, text, timestamptz, text, text);"
            + (SQL / "card_charge.pg.sql").read_text(),
            reverse_sql=migrations.RunSQL.noop,
        ),
    ]
