"""Loads wallet_card_charge again, now planned once per connection (plan_cache_mode =
force_generic_plan): PL/pgSQL otherwise makes a custom plan of its statements on every call, which
cost PostgreSQL CPU on every sale for no better plan (docs/performance.md). The signature is
unchanged, so the function is replaced in place; going back leaves it planned once, which changes
no answer."""

from pathlib import Path

from django.db import migrations

SQL = Path(__file__).resolve().parent.parent / "sql"


class Migration(migrations.Migration):
    dependencies = [("wallet", "0012_card_charge_answers_auto_topup_threshold")]

    operations = [migrations.RunSQL(sql=(SQL / "card_charge.pg.sql").read_text(), reverse_sql=migrations.RunSQL.noop)]
