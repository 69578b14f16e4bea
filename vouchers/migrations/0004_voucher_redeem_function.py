"""The redemption's decision and writes as one PL/pgSQL function, `vouchers_redeem`.

Its SQL lives in vouchers/sql/voucher_redeem.pg.sql; a later change to it is a new migration that
loads the file again (CREATE OR REPLACE), so every database runs the version its migrations say.
"""

from pathlib import Path

from django.db import migrations

SQL = (Path(__file__).resolve().parent.parent / "sql" / "voucher_redeem.pg.sql").read_text()

DROP = (
    "DROP FUNCTION IF EXISTS vouchers_redeem(bigint[], bigint, bigint, bigint, text, text, text, text,"
    " timestamptz, timestamptz, timestamptz, integer)"
)


class Migration(migrations.Migration):
    dependencies = [("vouchers", "0003_reserve_issued_vouchers")]

    operations = [migrations.RunSQL(SQL, DROP)]
