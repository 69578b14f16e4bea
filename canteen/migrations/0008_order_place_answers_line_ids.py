"""Loads the order functions again: canteen_order_place now answers its lines' ids (`line_ids`), so a
placement's receipt is built from what it wrote, without reading the lines back.

A changed result type cannot be replaced in place, so canteen_order_place is dropped first. Going back
leaves the new function: the older code reads its row by column name and ignores one more column."""

from pathlib import Path

from django.db import migrations

SQL = Path(__file__).resolve().parent.parent / "sql" / "orders.pg.sql"

PLACE_SIGNATURE = "bigint, bigint, bigint, bigint, bigint, date, boolean, text, jsonb, text[], text, timestamptz, text, timestamptz, text"


class Migration(migrations.Migration):
    dependencies = [("canteen", "0007_order_lock_timeout_when_configured")]

    operations = [
        migrations.RunSQL(
            sql=f"DROP FUNCTION IF EXISTS canteen_order_place({PLACE_SIGNATURE});" + SQL.read_text(),
            reverse_sql=migrations.RunSQL.noop,
        ),
    ]
