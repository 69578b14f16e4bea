"""Loads events_signup_sign again: a NULL p_lock_timeout (the setting at 0, as behind PgBouncer) now sets
nothing, so the role's lock_timeout applies instead of none at all."""

from pathlib import Path

from django.db import migrations

SQL = Path(__file__).resolve().parent.parent / "sql" / "signup_sign.pg.sql"


class Migration(migrations.Migration):
    dependencies = [("events", "0005_signup_functions")]

    operations = [migrations.RunSQL(sql=SQL.read_text(), reverse_sql=migrations.RunSQL.noop)]
