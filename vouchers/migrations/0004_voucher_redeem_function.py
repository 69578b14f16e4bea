"""The redemption's decision and writes as one PL/pgSQL function, `vouchers_redeem`.

Its SQL lives in vouchers/sql/voucher_redeem.pg.sql; a later change to it is a new migration that
loads the file again (CREATE OR REPLACE), so every database runs the version its migrations say.
"""

from pathlib import Path

from django.db import migrations

SQL = (Path(__file__).resolve().parent.parent / "sql" / "voucher_redeem.pg.sql").read_text()

# Undone, this drops the function whichever signature the file loaded above had: the first one, or
# the one with p_now_json that vouchers/0007 introduced (0007's own reverse leaves it to this one).
DROP = (
    "DROP FUNCTION IF EXISTS vouchers_redeem(bigint[], bigint, bigint, bigint, text, text, text, text,"
    " timestamptz, timestamptz, timestamptz, integer);"
    " DROP FUNCTION IF EXISTS vouchers_redeem(bigint[], bigint, bigint, bigint, text, text, text, text,"
    " timestamptz, text, timestamptz, timestamptz, integer)"
)


class Migration(migrations.Migration):
    dependencies = [("vouchers", "0003_reserve_issued_vouchers")]

    operations = [migrations.RunSQL(SQL, DROP)]
