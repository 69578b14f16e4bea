"""The money decisions as PL/pgSQL functions, one per operation, kept as SQL in wallet/sql/.

Like django-hordak's .pg.sql files: the SQL is read from its file here, so it stays readable as SQL
and versioned with the schema. A change to a function's file comes with a new migration that loads it
again (CREATE OR REPLACE); dropping is the reverse.
"""

from pathlib import Path

from django.db import migrations

SQL = Path(__file__).resolve().parent.parent / "sql"


def load(name: str) -> str:
    return (SQL / name).read_text()


class Migration(migrations.Migration):
    dependencies = [
        ("wallet", "0005_merge_opening_balance_and_card_acceptance"),
        ("guardians", "0003_outbound_webhooks"),
    ]

    operations = [
        migrations.RunSQL(
            sql=load("card_charge.pg.sql"),
            reverse_sql="DROP FUNCTION IF EXISTS wallet_card_charge(bigint, bigint, text, bigint, jsonb, text, text, text, timestamptz, text, text);",
        ),
        migrations.RunSQL(
            sql=load("card_transfer.pg.sql"),
            reverse_sql="DROP FUNCTION IF EXISTS wallet_card_transfer(text, text, bigint, bigint, bigint, boolean, text, text, jsonb, timestamptz, text);",
        ),
    ]
