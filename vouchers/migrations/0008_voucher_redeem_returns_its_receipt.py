"""Loads vouchers_redeem again: planned once per connection (plan_cache_mode), and it returns its ledger transaction's id and its lines as written
(`out_transaction_id`, `out_lines`), so a redemption's receipt is built from the call's answer and
no longer read back after it.

A changed result type cannot be replaced in place, so the function is dropped first. Going back
leaves the new function in place: the older code selects the function's columns by name, so two
more columns change nothing for it."""

from pathlib import Path

from django.db import migrations

SQL = Path(__file__).resolve().parent.parent / "sql" / "voucher_redeem.pg.sql"
SIGNATURE_OF_0007 = (
    "bigint[], bigint, bigint, bigint, text, text, text, text, timestamptz, text, timestamptz, timestamptz, integer"
)


class Migration(migrations.Migration):
    dependencies = [("vouchers", "0007_voucher_redeem_records_its_webhook")]

    operations = [
        migrations.RunSQL(
            sql=f"DROP FUNCTION IF EXISTS vouchers_redeem({SIGNATURE_OF_0007});" + SQL.read_text(),
            reverse_sql=migrations.RunSQL.noop,
        )
    ]
