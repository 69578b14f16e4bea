"""Loads vouchers_redeem again: a NULL p_lock_timeout_ms (VOUCHER_LOCK_TIMEOUT_MS at 0) now sets nothing,
so the connection's lock_timeout applies instead of none at all; the merchant's payable is opened by
the wallet's shared wallet_account_of."""

from pathlib import Path

from django.db import migrations

SQL = Path(__file__).resolve().parent.parent / "sql" / "voucher_redeem.pg.sql"


class Migration(migrations.Migration):
    dependencies = [
        ("vouchers", "0005_merge_settlement_runs_and_reserves"),
        ("wallet", "0010_account_functions"),  # wallet_account_of, which opens the merchant's payable
    ]

    operations = [migrations.RunSQL(sql=SQL.read_text(), reverse_sql=migrations.RunSQL.noop)]
