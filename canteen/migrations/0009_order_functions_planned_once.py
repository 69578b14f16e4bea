"""Loads the order functions again: canteen_order_place and canteen_order_change now plan their
statements once per connection (plan_cache_mode = force_generic_plan), as wallet_card_charge does
(docs/performance.md). No signature changes, so they are replaced in place; going back leaves them
planned once, which changes no answer."""

from pathlib import Path

from django.db import migrations

SQL = Path(__file__).resolve().parent.parent / "sql" / "orders.pg.sql"


class Migration(migrations.Migration):
    dependencies = [("canteen", "0008_order_place_answers_line_ids")]

    operations = [migrations.RunSQL(sql=SQL.read_text(), reverse_sql=migrations.RunSQL.noop)]
