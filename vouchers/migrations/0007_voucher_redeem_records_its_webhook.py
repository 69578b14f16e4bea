"""Loads vouchers_redeem again: it records the redemption's `voucher.redeemed` webhook event and its
deliveries itself (core_webhook_event_record), in the one call, and returns the deliveries to enqueue.
Its signature changes (p_now_json in, out_delivery_ids out), so the file drops the old one first."""

from pathlib import Path

from django.db import migrations

SQL = Path(__file__).resolve().parent.parent / "sql" / "voucher_redeem.pg.sql"


class Migration(migrations.Migration):
    dependencies = [
        ("vouchers", "0006_voucher_redeem_lock_timeout_when_configured"),
        ("core", "0004_webhook_event_record_function"),
    ]

    operations = [migrations.RunSQL(sql=SQL.read_text(), reverse_sql=migrations.RunSQL.noop)]
