"""A pre-order's placement and change as PL/pgSQL functions, kept as SQL in canteen/sql/orders.pg.sql.

As wallet/migrations/0006: the SQL is read from its file here, so it stays readable as SQL and
versioned with the schema. A change to the file comes with a new migration that loads it again
(CREATE OR REPLACE); dropping is the reverse.
"""

from pathlib import Path

from django.db import migrations

SQL = Path(__file__).resolve().parent.parent / "sql" / "orders.pg.sql"

FUNCTIONS = [
    "canteen_order_change(bigint, bigint, bigint, jsonb, text, timestamptz, timestamptz, text)",
    "canteen_order_place(bigint, bigint, bigint, bigint, bigint, date, boolean, text, jsonb, text[], text, timestamptz, text,"
    " timestamptz, text)",
    "canteen_order_pay(bigint, bigint, bigint, bigint, boolean, text, timestamptz, text, timestamptz)",
    "canteen_order_lines_write(bigint, jsonb)",
    "canteen_stock_apply(date, jsonb, jsonb)",
    "canteen_stock_lock_check(date, jsonb, jsonb)",
    "canteen_stock_moves(jsonb, jsonb)",
    "canteen_allergen_conflicts_locked(bigint, jsonb, timestamptz)",
]


class Migration(migrations.Migration):
    dependencies = [
        ("canteen", "0005_one_order_per_child_period_day"),
        ("wallet", "0010_account_functions"),  # the account helpers the functions call
        ("core", "0004_webhook_event_record_function"),  # and the webhook recorder
    ]

    operations = [
        migrations.RunSQL(sql=SQL.read_text(), reverse_sql=" ".join(f"DROP FUNCTION IF EXISTS {f};" for f in FUNCTIONS)),
    ]
