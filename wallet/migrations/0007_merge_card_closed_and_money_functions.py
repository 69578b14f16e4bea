"""Joins the leavers' closed card (0006_card_closed) and the money functions (0006_money_functions),
and loads wallet_card_transfer again: it now refuses money onto a leaver's closed card (`card_closed`)."""

from pathlib import Path

from django.db import migrations

SQL = Path(__file__).resolve().parent.parent / "sql"


class Migration(migrations.Migration):
    dependencies = [
        ("wallet", "0006_card_closed"),
        ("wallet", "0006_money_functions"),
    ]

    operations = [migrations.RunSQL(sql=(SQL / "card_transfer.pg.sql").read_text(), reverse_sql=migrations.RunSQL.noop)]
